package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/component-base/version"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

// runKubectl runs kubectl, built from the same Kubernetes release as the server.
func runKubectl(args []string) int {
	os.Args = args
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err) // prints the error and exits non-zero
		return 1
	}
	return 0
}

// kubernetesVersion is the release this binary was built from (set by the build's -ldflags).
func kubernetesVersion() string {
	return version.Get().GitVersion
}
