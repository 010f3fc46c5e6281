/* zoo/kinds.c: the one table of model kinds. Each model file defines its
 * zoo_kind (name, forward, metadata reader and writer, constructor from the
 * metadata) beside its layers; adding a model is its file and one line
 * here. The order is the one error messages list the kinds in. */
#include "zoo/model.h"

#define ZOO_KINDS(X)                                                                               \
    X(mlp)                                                                                         \
    X(logreg)                                                                                      \
    X(lenet5)                                                                                      \
    X(rnn)                                                                                         \
    X(lstm)                                                                                        \
    X(gru)                                                                                         \
    X(autoencoder)                                                                                 \
    X(vae)                                                                                         \
    X(gan)                                                                                         \
    X(charlstm)

#define DECLARE_(name) extern const zoo_kind zoo_kind_##name;
ZOO_KINDS(DECLARE_)
#undef DECLARE_

const zoo_kind *const zoo_kinds[] = {
#define ENTRY_(name) &zoo_kind_##name,
    ZOO_KINDS(ENTRY_)
#undef ENTRY_
};
const size_t zoo_kind_count = sizeof zoo_kinds / sizeof zoo_kinds[0];
