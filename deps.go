//go:build tools

package main

import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/shopspring/decimal"
	_ "github.com/jackc/pgx-shopspring-decimal"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/rivermigrate"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/sony/gobreaker/v2"
	_ "github.com/oklog/ulid/v2"
	_ "golang.org/x/text/unicode/norm"
	_ "github.com/standard-webhooks/standard-webhooks/libraries/go"
)
