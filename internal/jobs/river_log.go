package jobs

import (
	"context"
	"log/slog"
)

// riverLog is the logger River is given: log's handler behind
// infoAsDebug, so that River's routine INFO chatter (the producers' job
// counts every few seconds, leader elections, queue starts) is DEBUG and
// does not bury the request log at LOG_LEVEL=info. Its warnings and errors
// keep their level.
func riverLog(log *slog.Logger) *slog.Logger {
	return slog.New(infoAsDebug{log.Handler()}).With("component", "river")
}

// infoAsDebug passes records on to its handler with levels from INFO up to
// (not including) WARN lowered to DEBUG.
type infoAsDebug struct{ next slog.Handler }

func lower(l slog.Level) slog.Level {
	if l >= slog.LevelInfo && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h infoAsDebug) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, lower(l))
}

func (h infoAsDebug) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return h.next.Handle(ctx, r)
}

func (h infoAsDebug) WithAttrs(attrs []slog.Attr) slog.Handler {
	return infoAsDebug{h.next.WithAttrs(attrs)}
}

func (h infoAsDebug) WithGroup(name string) slog.Handler {
	return infoAsDebug{h.next.WithGroup(name)}
}
