#!/usr/bin/env python3
"""python/gen_cdef.py: turns the public headers into cffi's cdef, at build time.

    gen_cdef.py OUTPUT.py include/clgrad/clgrad.h [DEPFILE]

cffi parses declarations, not a C preprocessor's input, so the headers are
run through a small preprocessor here: #include "x.h" is followed (each file
once, in include order), <system> includes are dropped (cffi knows stdint.h's,
stddef.h's and stdbool.h's types), comments are removed, #ifdef/#ifndef/#if
defined(X)/#else/#endif are evaluated with nothing predefined (so CLG_API is
empty and the C++ guards vanish), and macros are expanded: object-like ones,
and function-like ones with ## pasting (an X-macro list such as ops.h's
CLG_ACTIVATIONS, which generates an enum), their output rescanned.
Integer macros stay as `#define NAME value` (cffi exposes them as lib.NAME);
float and string macros, which cffi cannot declare, become Python values in
CONSTANTS. Anything else this preprocessor does not understand (# stringizing,
variadic macros, an #if expression other than defined(X)) is an error, so
a header change that would silently drop declarations stops the build
instead. OUTPUT.py holds CDEF (a string) and CONSTANTS (a dict); DEPFILE, if
given, lists every header read (a Makefile rule, for ninja).
"""
import ast
import os
import re
import sys

_COMMENT_OR_STRING = re.compile(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|/\*.*?\*/|//[^\n]*', re.S)
_INTEGER = re.compile(r'^\(?\s*-?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?$')
_FLOAT = re.compile(r'^\(?\s*(-?\s*(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)[fF]?\s*\)?$')
_IDENTIFIER = re.compile(r'\b[A-Za-z_]\w*\b')
_PASTE = re.compile(r'\s*##\s*')


class HeaderError(Exception):
    pass


def strip_comments(text):
    """Replaces each comment by a space (a newline per line it spanned), keeps strings."""
    def replace(match):
        s = match.group(0)
        if s.startswith('/'):
            return ' ' if '\n' not in s else '\n' * s.count('\n')
        return s
    return _COMMENT_OR_STRING.sub(replace, text)


class Preprocessor:
    def __init__(self):
        self.macros = {}      # object-like macros in force: name -> replacement text
        self.functions = {}   # function-like macros in force: name -> (parameters, body)
        self.constants = {}   # float and string macros, for Python
        self.integers = []    # (name, value) of integer macros, in order
        self.seen = set()
        self.lines = []

    def condition(self, directive, argument, where):
        if directive == 'ifdef':
            return argument in self.macros
        if directive == 'ifndef':
            return argument not in self.macros
        match = re.fullmatch(r'!?\s*defined\s*\(?\s*(\w+)\s*\)?', argument)
        if not match:
            raise HeaderError(f'{where}: #if {argument}: only defined(NAME) is understood')
        value = match.group(1) in self.macros
        return not value if argument.startswith('!') else value

    def expand(self, line, where):
        line = _IDENTIFIER.sub(lambda m: self.macros.get(m.group(0), m.group(0)), line)
        # Function-like invocations one at a time, leftmost first, until none
        # is left: the replacement is rescanned, so an X-macro list's
        # X(...) entries expand after the list itself.
        for _ in range(10000):
            call = self.first_call(line)
            if call is None:
                return line
            start, end, name, arguments = call
            parameters, body = self.functions[name]
            if len(arguments) != len(parameters) and not (parameters == [] and arguments == ['']):
                raise HeaderError(f'{where}: {name} takes {len(parameters)} arguments, '
                                  f'given {len(arguments)}')
            values = dict(zip(parameters, arguments))
            body = _IDENTIFIER.sub(lambda m: values.get(m.group(0), m.group(0)), body)
            body = _PASTE.sub('', body)
            body = _IDENTIFIER.sub(lambda m: self.macros.get(m.group(0), m.group(0)), body)
            line = line[:start] + body + line[end:]
        raise HeaderError(f'{where}: macro expansion does not end')

    def first_call(self, line):
        """(start, end, name, arguments) of the first invocation of a
        function-like macro in line, or None."""
        for match in _IDENTIFIER.finditer(line):
            name = match.group(0)
            if name not in self.functions:
                continue
            i = match.end()
            while i < len(line) and line[i].isspace():
                i += 1
            if i == len(line) or line[i] != '(':
                continue  # the name alone, as an argument: not a call
            depth, arguments, begin = 0, [], i + 1
            for j in range(i, len(line)):
                if line[j] == '(':
                    depth += 1
                elif line[j] == ')':
                    depth -= 1
                    if depth == 0:
                        arguments.append(line[begin:j].strip())
                        return match.start(), j + 1, name, arguments
                elif line[j] == ',' and depth == 1:
                    arguments.append(line[begin:j].strip())
                    begin = j + 1
            return None  # unbalanced: left for cffi to reject
        return None

    def define(self, rest, where):
        match = re.match(r'(\w+)(\(?)\s*(.*)$', rest)
        if not match:
            raise HeaderError(f'{where}: #define {rest}: not understood')
        name, function_like, value = match.group(1), match.group(2), match.group(3).strip()
        if function_like:
            match = re.match(r'([\w\s,]*)\)\s*(.*)$', value)
            if not match:
                raise HeaderError(f'{where}: #define {name}(...): only named parameters are '
                                  'understood; teach gen_cdef.py or move it')
            body = ' '.join(match.group(2).split())
            if re.search(r'(?<!#)#(?!#)', body):
                raise HeaderError(f'{where}: #define {name}(...): # stringizing is not '
                                  'understood; teach gen_cdef.py or move it')
            parameters = [p.strip() for p in match.group(1).split(',') if p.strip()]
            self.functions[name] = (parameters, body)
            return
        self.macros[name] = value
        if not value or name.endswith('_H'):
            return  # an include guard, or CLG_API: nothing for Python
        if _INTEGER.match(value):
            self.integers.append((name, value.replace(' ', '').strip('()').rstrip('uUlL')))
        elif _FLOAT.match(value):
            self.constants[name] = float(_FLOAT.match(value).group(1).replace(' ', ''))
        elif value.startswith('"'):
            self.constants[name] = ast.literal_eval(value)
        else:
            raise HeaderError(f'{where}: #define {name} {value}: not a number or a string')

    def include(self, path):
        path = os.path.normpath(path)
        if path in self.seen:
            return
        self.seen.add(path)
        with open(path, encoding='utf-8') as f:
            text = strip_comments(f.read()).replace('\\\n', ' ')
        # Each entry: (this branch is taken, some branch was taken, the enclosing one is active)
        stack = []
        active = True
        for number, line in enumerate(text.split('\n'), 1):
            where = f'{path}:{number}'
            stripped = line.strip()
            if not stripped.startswith('#'):
                if active and stripped:
                    self.lines.append(self.expand(line.rstrip(), where))
                continue
            match = re.match(r'#\s*(\w+)\s*(.*)$', stripped)
            directive, rest = match.group(1), match.group(2).strip()
            if directive in ('if', 'ifdef', 'ifndef'):
                taken = active and self.condition(directive, rest, where)
                stack.append((taken, taken, active))
                active = taken
            elif directive == 'else':
                if not stack:
                    raise HeaderError(f'{where}: #else without #if')
                _, any_taken, outer = stack[-1]
                taken = outer and not any_taken
                stack[-1] = (taken, True, outer)
                active = taken
            elif directive == 'endif':
                if not stack:
                    raise HeaderError(f'{where}: #endif without #if')
                active = stack.pop()[2]
            elif not active:
                continue
            elif directive == 'include':
                if rest.startswith('"'):
                    self.include(os.path.join(os.path.dirname(path), rest.strip('"')))
                elif not rest.startswith('<'):
                    raise HeaderError(f'{where}: #include {rest}: not understood')
            elif directive == 'define':
                self.define(rest, where)
            elif directive == 'undef':
                self.macros.pop(rest, None)
                self.functions.pop(rest, None)
            else:
                raise HeaderError(f'{where}: #{directive}: not understood')
        if stack:
            raise HeaderError(f'{path}: #if without #endif')


def generate(header):
    pre = Preprocessor()
    pre.include(header)
    cdef = '\n'.join([f'#define {name} {value}' for name, value in pre.integers] + pre.lines)
    return cdef + '\n', pre.constants, sorted(pre.seen)


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: gen_cdef.py OUTPUT.py include/clgrad/clgrad.h [DEPFILE]\n')
        return 2
    output, header = argv[1], argv[2]
    try:
        cdef, constants, headers = generate(header)
    except (HeaderError, OSError) as e:
        sys.stderr.write(f'gen_cdef.py: {e}\n')
        return 1
    body = ('# Generated by python/gen_cdef.py from include/clgrad/*.h at build time; '
            'do not edit.\n'
            f'CDEF = {cdef!r}\n'
            f'CONSTANTS = {constants!r}\n')
    tmp = output + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(body)
    os.replace(tmp, output)
    if len(argv) == 4:
        with open(argv[3], 'w', encoding='utf-8') as f:
            f.write(output.replace(' ', '\\ ') + ': '
                    + ' '.join(h.replace(' ', '\\ ') for h in headers) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
