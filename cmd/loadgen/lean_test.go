package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLeanClient(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("X-Echo", r.Header.Get("X-Sent"))
			for range 3 {
				_, _ = w.Write([]byte(strings.Repeat("c", 3000)))
				w.(http.Flusher).Flush()
			}
		case "/slow":
			<-r.Context().Done() // no answer until the client gives up and hangs up
		default:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	l := newLeanClient(strings.TrimPrefix(srv.URL, "http://"), 4)
	ctx := context.Background()

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			body := []byte(strings.Repeat("b", i))
			r := l.do(ctx, http.MethodPost, "/echo?x=1", http.Header{"Content-Type": {"application/json"}}, body)
			if r.Err != nil || r.Status != http.StatusCreated || string(r.Body) != string(body) || r.Header.Get("Retry-After") != "1" {
				t.Errorf("echo %d: %d %q %v", i, r.Status, r.Body, r.Err)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n > 4 {
		t.Errorf("%d connections opened, bound 4", n)
	}
	r := l.do(ctx, http.MethodGet, "/chunked", http.Header{"X-Sent": {"yes"}}, nil)
	if r.Err != nil || len(r.Body) != 9000 || r.Header.Get("X-Echo") != "yes" {
		t.Fatalf("chunked: %d bytes, %v", len(r.Body), r.Err)
	}
	// The connection is still good after a chunked answer.
	if r := l.do(ctx, http.MethodPost, "/echo", nil, []byte("after")); r.Err != nil || string(r.Body) != "after" {
		t.Fatalf("after chunked: %q %v", r.Body, r.Err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if r := l.do(short, http.MethodGet, "/slow", nil, nil); !r.timedOut() {
		t.Fatalf("slow answer: %d %v, want a timeout", r.Status, r.Err)
	}
	if r := l.do(ctx, http.MethodPost, "/echo", nil, []byte("again")); r.Err != nil || string(r.Body) != "again" {
		t.Fatalf("after a timeout: %q %v", r.Body, r.Err)
	}
}
