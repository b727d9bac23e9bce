// Package api embeds the gateway's OpenAPI 3.1 contract, served at
// /openapi.yaml and used by the HTTP tests to validate real traffic.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
