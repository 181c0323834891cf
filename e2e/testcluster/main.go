// Command testcluster runs a real Kubernetes control plane (kube-apiserver and an
// embedded etcd) in one process, and doubles as the matching kubectl, and as kubelet,
// kube-proxy, kube-controller-manager and kube-scheduler for the lab's real nodes.
//
//	testcluster serve --state-dir DIR --bind-address ADDR [...]
//	testcluster kubectl ARGS...      (or invoke the binary through a link named kubectl)
//
// It exists because FerroLB's lab has no Docker engine: the control plane runs as a
// local process inside a network namespace, and tests talk to it like to any cluster.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func usage() {
	fmt.Fprintf(os.Stderr, `testcluster: a real kube-apiserver and etcd in one process, and a matching kubectl

usage:
  testcluster serve --state-dir DIR --bind-address ADDR [--secure-port 6443] [--host-netns PATH]
  testcluster kubectl ARGS...
  testcluster issue-cert --pki DIR --cn NAME [--org GROUP] --out PREFIX   (client certificate from the lab CA)
  testcluster version
  kubelet, kube-proxy, kube-controller-manager, kube-scheduler ARGS...   (through links of those names)
`)
}

func main() {
	base := filepath.Base(os.Args[0])
	if base == "kubectl" {
		os.Exit(runKubectl(os.Args))
	}
	if _, ok := personalities[base]; ok {
		os.Exit(runPersonality(base))
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
			os.Exit(1)
		}
	case "kubectl":
		os.Exit(runKubectl(append([]string{"kubectl"}, os.Args[2:]...)))
	case "issue-cert":
		if err := issueCert(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
			os.Exit(1)
		}
	case "version":
		fmt.Println(kubernetesVersion())
	case "-h", "--help", "help":
		usage()
	default:
		usage()
		os.Exit(2)
	}
}
