#!/bin/sh
# Container entry point. No arguments, or arguments that are flags, mean `tfsvc serve` with them (the model comes
# from MODEL_NAME / MODEL_BASE_PATH, as in the tensorflow/serving image, or from the flags); anything else is a
# tfsvc subcommand (`docker run IMAGE bench http://...`). exec, so tfsvc receives SIGTERM from tini directly.
set -eu
case "${1:-}" in
  '' | -*) set -- serve "$@" ;;
esac
exec "${TFSVC_BIN:-/app/bin/tfsvc}" "$@"
