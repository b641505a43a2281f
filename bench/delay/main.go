// Command delay is a reverse proxy that adds a fixed latency to every
// request, so a benchmark can talk to an existing sandbox world through a
// slower network without restarting it (a memory-only "sandbox serve"
// loses its world on restart).
//
//	go run ./bench/delay -to http://127.0.0.1:8080 -latency 20ms [-listen 127.0.0.1:0]
//
// It prints "delay listening on http://ADDR" once it accepts connections.
//
// The latency is the least time from a request's arrival to its answer, as
// `sandbox serve --latency` holds it: the request is forwarded at once and
// its answer held back until the latency has passed. The upstream's own
// work (the sandbox's, on the same machine) then runs inside the latency,
// as a platform's runs inside its response time, instead of being added
// to it and counted as the client's.
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

// arrivalKey is the context key of a request's arrival time.
type arrivalKey struct{}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	to := flag.String("to", "", "upstream base URL")
	latency := flag.Duration("latency", 20*time.Millisecond, "least time from a request's arrival to its answer")
	flag.Parse()
	up, err := url.Parse(*to)
	if *to == "" || err != nil {
		fmt.Fprintln(os.Stderr, "usage: delay -to http://ADDR [-latency 20ms] [-listen ADDR]")
		os.Exit(2)
	}
	proxy := httputil.NewSingleHostReverseProxy(up)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	proxy.ModifyResponse = func(resp *http.Response) error {
		ctx := resp.Request.Context()
		arrived, _ := ctx.Value(arrivalKey{}).(time.Time)
		select {
		case <-time.After(time.Until(arrived.Add(*latency))):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivalKey{}, time.Now())))
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
