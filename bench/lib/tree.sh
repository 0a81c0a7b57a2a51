# shellcheck shell=bash
# bench_tree DIR: a generated app tree in DIR/app (~20,000 files, ~200 MB: an npm-installed
# node_modules, small source-like text files, a few large binaries), made once and reused.
bench_tree() {
  local tree=$1 work
  [ -f "$tree/.complete" ] && return 0
  work=$(dirname "$tree")
  rm -rf "$tree" "$work/npm"
  mkdir -p "$tree/app/text" "$tree/app/bin" "$work/npm"
  echo "generating the tree in $tree ..." >&2
  # An npm-installed node_modules (registry packages, a few thousand files).
  (cd "$work/npm" && echo '{"name":"bench","version":"1.0.0","private":true}' > package.json &&
    npm install --no-audit --no-fund --loglevel=error typescript@5.6.3 lodash@4.17.21 \
      moment@2.30.1 express@4.21.2 rxjs@7.8.1 >/dev/null)
  mv "$work/npm/node_modules" "$tree/app/node_modules"
  cp "$work/npm/package.json" "$work/npm/package-lock.json" "$tree/app/"
  # Small text files until the tree holds 20,000 files: source-like, compressible.
  python3 - "$tree/app/text" <<'PY'
import os, random, sys
root = sys.argv[1]
have = sum(len(f) for _, _, f in os.walk(os.path.dirname(root)))
words = open("/usr/share/dict/words").read().split() if os.path.exists("/usr/share/dict/words") \
    else [f"token{i}" for i in range(5000)]
rng = random.Random(42)
for i in range(max(0, 20000 - have - 4)):
    d = os.path.join(root, f"pkg{i // 200:03d}")
    os.makedirs(d, exist_ok=True)
    n = rng.randint(200, 9000)
    text = []
    size = 0
    while size < n:
        line = "const " + "_".join(rng.choice(words) for _ in range(3)) + " = " + str(rng.random()) + ";\n"
        text.append(line)
        size += len(line)
    with open(os.path.join(d, f"file{i}.js"), "w") as f:
        f.write("".join(text))
PY
  # A few large binaries: real executables and shared objects, plus one incompressible blob.
  cp /usr/bin/node "$tree/app/bin/node"
  cp /usr/lib/x86_64-linux-gnu/libstdc++.so.6 "$tree/app/bin/"
  head -c 20000000 /dev/urandom > "$tree/app/bin/assets.bin"
  touch "$tree/.complete"
}
