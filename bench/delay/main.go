// Command delay is a reverse proxy that adds a fixed latency to every
// request, so a benchmark can talk to an existing sandbox world through a
// slower network without restarting it (a memory-only "sandbox serve"
// loses its world on restart).
//
//	go run ./bench/delay -to http://127.0.0.1:8080 -latency 20ms [-listen 127.0.0.1:0]
//
// It prints "delay listening on http://ADDR" once it accepts connections.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	to := flag.String("to", "", "upstream base URL")
	latency := flag.Duration("latency", 20*time.Millisecond, "added to every request before it is forwarded")
	flag.Parse()
	up, err := url.Parse(*to)
	if *to == "" || err != nil {
		fmt.Fprintln(os.Stderr, "usage: delay -to http://ADDR [-latency 20ms] [-listen ADDR]")
		os.Exit(2)
	}
	proxy := httputil.NewSingleHostReverseProxy(up)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(*latency):
		case <-r.Context().Done():
			return
		}
		proxy.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delay:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("delay listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "delay:", err)
		os.Exit(1)
	}
}
