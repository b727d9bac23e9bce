package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sampleRSS reads the gateway's resident memory from /metrics on the
// operations listener every second
// into sc until the returned function is called.
func (b *bench) sampleRSS(sc *scenarioResult) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if mib, ok := b.rss(); ok {
				sc.RSS = append(sc.RSS, rssPoint{T: time.Since(start).Seconds(), MiB: mib})
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (b *bench) rss() (float64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.ops+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := b.c.http.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f / (1 << 20), err == nil
		}
	}
	return 0, false
}

// write saves the report as JSON and the chart as PNG under dir.
func (b *bench) write(rep *report, dir string, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stamp := rep.Started.Format("20060102-150405")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	jsonPath := filepath.Join(dir, "bench-"+stamp+".json")
	if err := os.WriteFile(jsonPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	_ = os.WriteFile(filepath.Join(dir, "latest.json"), buf.Bytes(), 0o644)
	pngPath := filepath.Join(dir, "bench-"+stamp+".png")
	if err := chart(rep, pngPath); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	fmt.Fprintf(stderr, "loadgen: wrote %s and %s\n", jsonPath, pngPath)
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
