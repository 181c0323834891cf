package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// listenInNetns opens a listening socket inside another network namespace. A socket
// belongs to the namespace it was created in, so a throwaway goroutine locks its OS
// thread, enters the namespace and listens; it ends without unlocking, which makes the
// Go runtime discard that thread rather than reuse it in the wrong namespace.
func listenInNetns(nsPath, network, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		target, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		l, err := net.Listen(network, addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

// forward relays every connection accepted on l to target (a plain TCP relay: TLS
// passes through untouched, so clients verify the apiserver's own certificate).
func forward(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: forwarder stopped: %v\n", err)
			return
		}
		go func() {
			defer c.Close()
			u, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				return
			}
			defer u.Close()
			go func() {
				_, _ = io.Copy(u, c)
				if tc, ok := u.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}()
			_, _ = io.Copy(c, u)
		}()
	}
}
