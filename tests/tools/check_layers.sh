#!/usr/bin/env bash
# check_layers.sh SOURCE_DIR - the layers stay honest: no source file in the
# product's folders reaches another folder by a relative include
# (`#include "../err.h"`). A file names what it needs by its bare name and
# its CMake target's link libraries decide what it may see, so a layer that
# includes a header of a layer above it fails to build instead of getting it
# through "../". Prints every offending line; exit 1 if there is one.
set -euo pipefail
src=${1:?usage: check_layers.sh SOURCE_DIR}
cd "$src"
found=$(grep -rnE --include='*.c' --include='*.h' --include='*.rc' \
    '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?\.\./' \
    base core db server sandbox || true)
if [ -n "$found" ]; then
    echo "check_layers: relative includes across folders (name the header, link its target):" >&2
    echo "$found" >&2
    exit 1
fi
