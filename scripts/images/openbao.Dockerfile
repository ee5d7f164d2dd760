# OpenBao from the pinned peer binary. As in the official image, a dev server takes its root token
# and listen address from BAO_DEV_ROOT_TOKEN_ID and BAO_DEV_LISTEN_ADDRESS.
ARG DEBIAN_IMAGE=local/debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
COPY bao /usr/local/bin/bao
COPY openbao-entrypoint.sh /usr/local/bin/openbao-entrypoint.sh
EXPOSE 8200
ENTRYPOINT ["openbao-entrypoint.sh"]
CMD ["server", "-dev", "-dev-no-store-token"]
