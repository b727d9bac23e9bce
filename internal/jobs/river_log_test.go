package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestRiverLogLowersInfoToDebug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level slog.Level
		want  string // the lines River's messages give, in order
	}{
		{slog.LevelInfo, "WARN river warns|ERROR river fails"},
		{slog.LevelDebug, "DEBUG river debugs|DEBUG producer job counts|WARN river warns|ERROR river fails"},
		{slog.LevelWarn, "WARN river warns|ERROR river fails"},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
		river := riverLog(log)
		ctx := context.Background()
		river.DebugContext(ctx, "river debugs")
		river.InfoContext(ctx, "producer job counts", "queue", "default", "num_completed", 3)
		river.WarnContext(ctx, "river warns")
		river.ErrorContext(ctx, "river fails")
		river.WithGroup("g").With("k", "v").Info("grouped chatter")
		log.Info("request", "status", 200) // the gateway's own INFO keeps its level

		var got []string
		sawRequest := false
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec struct{ Level, Msg, Component string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if rec.Msg == "request" {
				sawRequest = rec.Level == "INFO" && rec.Component == ""
				continue
			}
			if rec.Component != "river" {
				t.Errorf("level %v: %s lacks component=river", tc.level, line)
			}
			if rec.Msg == "grouped chatter" {
				if rec.Level != "DEBUG" || tc.level > slog.LevelDebug {
					t.Errorf("level %v: grouped INFO printed as %s", tc.level, rec.Level)
				}
				continue
			}
			got = append(got, rec.Level+" "+rec.Msg)
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("at %v: %q, want %q", tc.level, strings.Join(got, "|"), tc.want)
		}
		if sawRequest != (tc.level <= slog.LevelInfo) {
			t.Errorf("at %v: the gateway's own INFO record: printed %v", tc.level, sawRequest)
		}
	}
}
