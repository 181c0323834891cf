package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	_ "k8s.io/component-base/logs/json/register"
)

type serveOptions struct {
	stateDir     string
	bindAddress  string
	securePort   int
	etcdPort     int
	hostNetns    string
	serviceCIDRs string
}

func serve(args []string) error {
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&o.stateDir, "state-dir", "", "directory for PKI, etcd data, kubeconfigs and logs (required)")
	fs.StringVar(&o.bindAddress, "bind-address", "127.0.0.1", "address the apiserver listens on and advertises")
	fs.IntVar(&o.securePort, "secure-port", 6443, "apiserver HTTPS port")
	fs.IntVar(&o.etcdPort, "etcd-port", 2379, "etcd client port on 127.0.0.1 (peer port is one above)")
	fs.StringVar(&o.hostNetns, "host-netns", "", "network namespace file (e.g. /proc/PID/ns/net) in which to also "+
		"listen on 127.0.0.1 and forward to the apiserver; writes kubeconfig-host")
	fs.StringVar(&o.serviceCIDRs, "service-cluster-ip-range", "192.0.2.128/25,2001:db8:ffff::/112",
		"ClusterIP ranges, dual-stack (documentation ranges: nothing in the lab routes to them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.stateDir == "" {
		return errors.New("--state-dir is required")
	}
	bind := net.ParseIP(o.bindAddress)
	if bind == nil {
		return fmt.Errorf("--bind-address %q is not an IP address", o.bindAddress)
	}
	if err := os.MkdirAll(o.stateDir, 0o700); err != nil {
		return err
	}
	// A stale marker from an earlier run must not announce readiness.
	_ = os.Remove(filepath.Join(o.stateDir, "ready"))

	// The host namespace is opened first, while whoever started us (and named it) still lives.
	var hostListener net.Listener
	if o.hostNetns != "" {
		l, err := listenInNetns(o.hostNetns, "tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listening in host namespace %s: %w", o.hostNetns, err)
		}
		hostListener = l
	}

	p := pki{dir: filepath.Join(o.stateDir, "pki")}
	// Pods reach the apiserver at the first address of each ClusterIP range (the
	// `kubernetes` Service, through kube-proxy on real nodes): the certificate names them.
	sans := []net.IP{bind}
	for _, cidr := range strings.Split(o.serviceCIDRs, ",") {
		_, n, err := net.ParseCIDR(strings.TrimSpace(cidr))
		if err != nil {
			return fmt.Errorf("--service-cluster-ip-range: %w", err)
		}
		first := append(net.IP(nil), n.IP...)
		first[len(first)-1]++
		sans = append(sans, first)
	}
	if err := p.ensure(sans); err != nil {
		return fmt.Errorf("generating certificates: %w", err)
	}

	etcd, err := startEtcd(filepath.Join(o.stateDir, "etcd"), o.etcdPort)
	if err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	defer etcd.Close()

	apiURL := "https://" + net.JoinHostPort(o.bindAddress, strconv.Itoa(o.securePort))
	if err := writeKubeconfig(filepath.Join(o.stateDir, "kubeconfig"), apiURL, p); err != nil {
		return err
	}
	if hostListener != nil {
		hostURL := "https://" + hostListener.Addr().String()
		if err := writeKubeconfig(filepath.Join(o.stateDir, "kubeconfig-host"), hostURL, p); err != nil {
			return err
		}
		go forward(hostListener, net.JoinHostPort(o.bindAddress, strconv.Itoa(o.securePort)))
	}

	command := app.NewAPIServerCommand()
	command.SetArgs([]string{
		"--etcd-servers=http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(o.etcdPort)),
		"--bind-address=" + o.bindAddress,
		"--advertise-address=" + o.bindAddress,
		"--secure-port=" + strconv.Itoa(o.securePort),
		"--tls-cert-file=" + p.servingCert(),
		"--tls-private-key-file=" + p.servingKey(),
		"--client-ca-file=" + p.caCert(),
		"--service-account-key-file=" + p.saPub(),
		"--service-account-signing-key-file=" + p.saKey(),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=" + o.serviceCIDRs,
		"--authorization-mode=Node,RBAC",
		// Real nodes: the apiserver reaches kubelets (logs, exec) at their lab addresses,
		// as an admin (kubelets trust the lab CA).
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-client-certificate=" + p.adminCert(),
		"--kubelet-client-key=" + p.adminKey(),
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	})
	done := make(chan int, 1)
	go func() { done <- cli.Run(command) }()

	go func() {
		if err := waitReady(apiURL, p, 3*time.Minute); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
			return
		}
		info := fmt.Sprintf("version=%s\napi=%s\npid=%d\n", kubernetesVersion(), apiURL, os.Getpid())
		if err := os.WriteFile(filepath.Join(o.stateDir, "ready"), []byte(info), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: writing ready marker: %v\n", err)
		}
		fmt.Fprintf(os.Stderr, "testcluster: ready at %s\n", apiURL)
	}()

	code := <-done
	if code != 0 {
		return fmt.Errorf("kube-apiserver exited with code %d", code)
	}
	return nil
}

func startEtcd(dir string, port int) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "lab"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	client := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1))}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The lab's data lives in a tmpfs and dies with the lab; fsync buys nothing there.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("etcd did not become ready within 60s")
	}
}

func waitReady(apiURL string, p pki, timeout time.Duration) error {
	caPEM, err := os.ReadFile(p.caCert())
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(p.adminCert(), p.adminKey())
	if err != nil {
		return err
	}
	c := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := "no answer"
	for ctx.Err() == nil {
		resp, err := c.Get(apiURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("apiserver not ready after %s: %s", timeout, last)
}

func writeKubeconfig(path, server string, p pki) error {
	b64 := func(file string) (string, error) {
		data, err := os.ReadFile(file)
		return base64.StdEncoding.EncodeToString(data), err
	}
	ca, err := b64(p.caCert())
	if err != nil {
		return err
	}
	cert, err := b64(p.adminCert())
	if err != nil {
		return err
	}
	key, err := b64(p.adminKey())
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: ferrolb-lab
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: ferrolb-lab
  context:
    cluster: ferrolb-lab
    user: admin
    namespace: default
current-context: ferrolb-lab
`, server, ca, cert, key)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
