// Command etcd: the etcd server module's own entry point, built inside the Kubernetes build module
// so that etcd and the API server share one dependency graph (the etcd version Kubernetes pins).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
