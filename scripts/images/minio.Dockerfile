# MinIO server with mc (its health check runs `mc ready local`), from the pinned peer binaries.
# Like the official image, the arguments follow `minio` (e.g. `server --console-address :9001`).
ARG DEBIAN_IMAGE=local/debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
COPY minio mc /usr/local/bin/
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
CMD ["server", "/data"]
