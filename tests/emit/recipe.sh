#!/bin/sh
# The standalone recipe of docs/emitted-c.md works as written: the sh block
# after the "recipe: standalone" marker is extracted and run verbatim, with
# MODEL (examples/gan_generator, 2.9 MB of weights, so the weights come as
# NAME.weights.bin + NAME.weights.S), NAME=model and OUT=out set in the
# environment, `loom` on PATH and tests/emit/recipe_app.c as app.c; the
# program it builds must match the interpreter (`loom run`).
#
# usage: recipe.sh LOOM SOURCE_DIR WORK_DIR
set -eu
LOOM=$1 ROOT=$2 WORK=$3
EX=$ROOT/examples/gan_generator
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/ref"
WORK=$(cd "$WORK" && pwd)
ln -s "$LOOM" "$WORK/bin/loom"
awk '/<!-- recipe: standalone/ { on = 1; next }
     on && /^```sh/ { body = 1; next }
     body && /^```/ { exit }
     body { print }' "$ROOT/docs/emitted-c.md" >"$WORK/recipe.sh"
if [ ! -s "$WORK/recipe.sh" ]; then
    echo "recipe.sh: no standalone recipe found in docs/emitted-c.md" >&2
    exit 1
fi
cp "$ROOT/tests/emit/recipe_app.c" "$WORK/app.c"
cp "$ROOT/tests/emit/npy_check.h" "$WORK/"
(cd "$WORK" && PATH="$WORK/bin:$PATH" MODEL="$EX/model.json" NAME=model OUT=out sh -eu recipe.sh)
if [ ! -f "$WORK/out/model.weights.S" ] || [ ! -f "$WORK/out/model.weights.bin" ]; then
    echo "recipe.sh: the model should have its weights in a blob (.S + .bin)" >&2
    exit 1
fi
"$LOOM" run "$EX/model.json" --input "$EX/input_z.npy" --output "$WORK/ref" >/dev/null
"$WORK/app" "$EX/input_z.npy" "$(ls "$WORK"/ref/*.npy)"
echo "recipe: the documented standalone build runs and matches the interpreter"
