#!/bin/sh
# `bao` with the dev-server settings from the environment, as the official image's entrypoint does.
set -e
if [ "$1" = server ]; then
  case " $* " in
    *" -dev "*)
      if [ -n "$BAO_DEV_ROOT_TOKEN_ID" ]; then set -- "$@" "-dev-root-token-id=$BAO_DEV_ROOT_TOKEN_ID"; fi
      set -- "$@" "-dev-listen-address=${BAO_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}"
      ;;
  esac
fi
exec bao "$@"
