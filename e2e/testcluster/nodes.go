package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"

	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client metrics, as the upstream mains register them
	_ "k8s.io/component-base/metrics/prometheus/version"
)

// The node and control-plane programs of the same Kubernetes release, for the lab's real
// nodes: the binary runs as one of them when invoked through a link of that name (which
// build-testcluster creates beside it).
var personalities = map[string]func() *cobra.Command{
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
	"kube-proxy":              proxy.NewProxyCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
}

// runPersonality runs the named program with os.Args[1:] as its arguments.
func runPersonality(name string) int {
	command := personalities[name]()
	command.SetArgs(os.Args[1:])
	return cli.Run(command)
}
