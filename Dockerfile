# tfsvc serving image: `docker build -t tfsvc .` then
#   docker run -p 8501:8501 -p 8500:8500 -v "$PWD/models/mnist:/models/mnist" -e MODEL_NAME=mnist tfsvc
# as with the tensorflow/serving image (MODEL_NAME, MODEL_BASE_PATH; extra flags after the image name go to
# `tfsvc serve`). --build-arg WITH_WEBGPU=1 adds Dawn and the Vulkan loader for `--backend webgpu` on NVIDIA GPUs
# (the NVIDIA container runtime mounts the driver when NVIDIA_DRIVER_CAPABILITIES includes "graphics").
# Generated manifests (`tfsvc k8s`) expect exactly this: non-root uid 10001, a read-only root, writes under /tmp only.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src src
COPY bin bin
COPY proto proto
# `npm ci` runs `prepare` (tsc); the test and bench sources are not in the image, and tsc builds what it finds.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-slim
ARG WITH_WEBGPU=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates $([ "$WITH_WEBGPU" = 1 ] && echo libvulkan1) \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 tfsvc && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin tfsvc
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
COPY bin bin
COPY proto proto
COPY docker/entrypoint.sh docker/entrypoint.sh
RUN if [ "$WITH_WEBGPU" = 1 ]; then npm install --no-save --no-audit --no-fund webgpu; fi
# glibc's allocator: a fixed mmap threshold of 32 KiB. With glibc's default (a threshold that rises to the largest
# block freed, up to 32 MiB), request bodies' 16-64 KiB socket chunks, which live until V8 next collects, land in the
# main heap and leave it fragmented: bench/chaos measured RSS +35% (60 MiB) after its malformed requests, against -2%
# with this setting, for 6-9% more server CPU per 1 MB body (bench/allocator.ts; docs/serve.md, Operations).
# `-e GLIBC_TUNABLES=` turns it off.
# V8 on the HTTP thread: an initial old-generation limit of 128 MiB. Request bodies are ArrayBuffers, which V8 counts
# against that limit; with the default, 5x overload (bench/chaos --only overload) ran 13-32 full collections of 3-18 ms
# on the HTTP thread per run, against 3 with this flag, and clients' time to reject p99 fell from 27-48 to 11-30 ms,
# for 10 MiB more RSS after the malformed requests (docs/serve.md, "Stop 11"). docker/entrypoint.sh passes it to node;
# `-e TFSVC_NODE_FLAGS=` turns it off.
ENV NODE_ENV=production TMPDIR=/tmp GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 TFSVC_NODE_FLAGS=--initial-old-space-size=128
USER 10001:10001
EXPOSE 8500 8501
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s \
  CMD node -e "fetch('http://127.0.0.1:8501/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# tini is PID 1: it forwards SIGTERM to tfsvc (which drains, then exits 0) and reaps children.
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
