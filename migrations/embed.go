// Package migrations embeds the gateway's forward-only schema migrations.
// Files are named NNNN_description.sql and applied in order; a file is never
// edited after it lands.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
