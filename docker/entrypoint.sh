#!/bin/sh
# Container entry point. No arguments, or arguments that are flags, mean `tfsvc serve` with them (the model comes
# from MODEL_NAME / MODEL_BASE_PATH, as in the tensorflow/serving image, or from the flags); anything else is a
# tfsvc subcommand (`docker run IMAGE bench http://...`). exec, so tfsvc receives SIGTERM from tini directly.
set -eu
case "${1:-}" in
  '' | -*) set -- serve "$@" ;;
esac
# TFSVC_NODE_FLAGS (set in the Dockerfile; empty for none): node flags for tfsvc. V8's heap sizing flags are refused in
# NODE_OPTIONS, so they go on node's command line.
# shellcheck disable=SC2086 # the flags are split on purpose
exec "${TFSVC_NODE:-node}" ${TFSVC_NODE_FLAGS:-} "${TFSVC_BIN:-/app/bin/tfsvc}" "$@"
