package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// report is everything one run measured.
type report struct {
	Started   time.Time          `json:"started"`
	Mode      string             `json:"mode"`
	Cores     int                `json:"cores"`
	Gateway   string             `json:"gateway"`
	Ceilings  map[string]float64 `json:"ceilings,omitempty"`
	Rates     map[string]float64 `json:"rates"`
	Scenarios []*scenarioResult  `json:"scenarios"`
}

// bench is one run's shared state.
type bench struct {
	c        *client
	db       *pgxpool.Pool
	cits     []citizen
	accounts [][]string // accounts[citizen][bank index] = linked account id
	banks    []string
	log      io.Writer
	gateway  string
	ops      string // the gateway's operations listener, for /metrics
	ceilings map[string]float64
	duration time.Duration
	warmup   time.Duration
	cpu      *cpuMeter // nil: the CPU per op is not measured

	mu      sync.Mutex
	created []createdReq // from the create scenario, for replay
	unpaid  []createdReq // created and not yet paid, for clear's preparation

	webhooks atomic.Int64
}

// createdReq is a payment request the bench created.
type createdReq struct {
	Key  string
	Body []byte
	ID   string
	Cit  int
}

var allScenarios = []string{"create", "replay", "clear", "flow", "mixed", "overload", "read", "bank-down"}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dir        = fs.String("dir", ".bench/state", "state directory written by loadgen init")
		gateway    = fs.String("gateway", "http://127.0.0.1:18080", "gateway base URL")
		ops        = fs.String("ops", "http://127.0.0.1:18095", "the gateway's operations listener (OPS_ADDR), for /metrics")
		portalFile = fs.String("portal-file", "", "JSON printed by gatewayctl portal create")
		dbURL      = fs.String("database-url", os.Getenv("DATABASE_URL"), "the gateway's database, to count outcomes applied")
		scenarios  = fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run, in order")
		duration   = fs.Duration("duration", 30*time.Second, "measured time of each scenario, warm-up included")
		mixedDur   = fs.Duration("mixed-duration", 0, "duration of the mixed soak (default --duration)")
		warmup     = fs.Duration("warmup", 5*time.Second, "trimmed from the start of each scenario")
		out        = fs.String("out", "bench-results", "where JSON and PNG go")
		ceilFile   = fs.String("ceilings", "", "JSON of the machine's ceilings (loadgen ceilings writes it)")
		webhook    = fs.String("webhook-addr", "127.0.0.1:18093", "where the portal's webhooks are received")
		mode       = fs.String("mode", "full", "a label for the report: full or short")
		rate       = fs.Float64("rate", 0, "offered rate of every scenario that has no rate of its own")
		cpuPids    = fs.String("cpu-pids", "", "name=PID,… of processes whose CPU per op is reported, each with its descendants (gateway, postgres, redis); the generator's own is always")
		clkTck     = fs.Float64("clk-tck", 100, "clock ticks a second of /proc/PID/stat (getconf CLK_TCK)")
		bankFlags  multiFlag
		rates      = map[string]*float64{}
	)
	fs.Var(&bankFlags, "bank", "CODE=SECRET=SIM_URL of a sandbox bank (repeatable; the first carries clear and flow)")
	for _, name := range rateNames {
		rates[name] = fs.Float64("rate-"+name, 0, fmt.Sprintf("offered rate of %s (default %s)", name, rateDefaults[name]))
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ceilings := map[string]float64{}
	if *ceilFile != "" {
		if err := readJSON(*ceilFile, &ceilings); err != nil {
			return fmt.Errorf("--ceilings: %w", err)
		}
	}
	given := map[string]float64{}
	for name, v := range rates {
		given[name] = *v
	}
	rateOf := offeredRates(given, *rate, ceilings)
	meter, err := parseCPUPids(*cpuPids, *clkTck)
	if err != nil {
		return err
	}
	if *mixedDur == 0 {
		*mixedDur = *duration
	}

	var portal portalCreds
	if err := readJSON(*portalFile, &portal); err != nil {
		return fmt.Errorf("--portal-file: %w", err)
	}
	banks := map[string]bankCreds{}
	var codes []string
	for _, b := range bankFlags {
		parts := strings.SplitN(b, "=", 3)
		if len(parts) != 3 {
			return fmt.Errorf("--bank %q: want CODE=SECRET=SIM_URL", b)
		}
		banks[parts[0]] = bankCreds{Code: parts[0], Secret: parts[1], SimURL: strings.TrimRight(parts[2], "/")}
		codes = append(codes, parts[0])
	}
	if len(codes) == 0 {
		return fmt.Errorf("give at least one --bank")
	}
	var cits []citizen
	if err := readJSON(citizensPath(*dir), &cits); err != nil {
		return fmt.Errorf("run loadgen init first: %w", err)
	}
	iss, err := devissuer.LoadOrCreate(keyPath(*dir), Issuer)
	if err != nil {
		return err
	}
	db, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	defer db.Close()

	b := &bench{
		c: newClient(strings.TrimRight(*gateway, "/"), portal, banks), db: db, cits: cits, banks: codes,
		log: stderr, gateway: *gateway, ops: strings.TrimRight(*ops, "/"), duration: *duration, warmup: *warmup, ceilings: ceilings,
		cpu: meter,
	}
	if err := b.c.mintTokens(iss, cits); err != nil {
		return err
	}
	stopHooks, err := b.receiveWebhooks(*webhook)
	if err != nil {
		return err
	}
	defer stopHooks()
	if err := b.linkAccounts(ctx); err != nil {
		return err
	}

	rep := &report{Started: time.Now().UTC(), Mode: *mode, Cores: runtime.NumCPU(), Gateway: *gateway,
		Ceilings: b.ceilings, Rates: rateOf}
	for _, name := range strings.Split(*scenarios, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		d := *duration
		if name == "mixed" {
			d = *mixedDur
		}
		b.logf("scenario %s: %.0f/s for %s (warm-up %s)", name, rateOf[name], d, *warmup)
		sc, err := b.scenario(ctx, name, rateOf, d, rep)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		rep.Scenarios = append(rep.Scenarios, sc)
		b.settle(ctx)
	}
	judge(rep)
	markdown(stdout, rep)
	return b.write(rep, *out, stderr)
}

// scenario runs one scenario, sampling the gateway's memory meanwhile.
func (b *bench) scenario(ctx context.Context, name string, rates map[string]float64, d time.Duration, rep *report) (*scenarioResult, error) {
	sc := &scenarioResult{Name: name, Duration: d.String(), Warmup: b.warmup.String()}
	stopRSS := b.sampleRSS(sc)
	defer stopRSS()
	var err error
	switch name {
	case "create":
		b.createScenario(ctx, sc, rates[name], d)
	case "replay":
		b.replayScenario(ctx, sc, rates[name], d)
	case "clear":
		err = b.clearScenario(ctx, sc, rates[name], d)
	case "flow":
		err = b.flowScenario(ctx, sc, rates[name], d, b.banks[:1], "")
	case "read":
		b.readScenario(ctx, sc, rates[name], d)
	case "mixed", "overload":
		err = b.mixedScenario(ctx, sc, rates[name], d)
	case "bank-down":
		if len(b.banks) < 2 {
			return nil, fmt.Errorf("bank-down needs two --bank")
		}
		err = b.flowScenario(ctx, sc, rates[name], d, b.banks[:2], b.banks[1])
	default:
		return nil, fmt.Errorf("unknown scenario (known: %s)", strings.Join(allScenarios, ", "))
	}
	if err == nil {
		sc.CPU = sc.cpu.result(windowOps(sc))
	}
	return sc, err
}

// settle waits until the gateway's background work from a scenario has
// mostly drained (its River queue, and webhooks waiting to be sent), so that
// one scenario's backlog does not weigh on the next; at most 60 s.
func (b *bench) settle(ctx context.Context) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var jobs, hooks int64
		err := b.db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')
				AND scheduled_at < now() + interval '1 second'),
			(SELECT count(*) FROM events WHERE next_attempt_at IS NOT NULL
				AND delivery_attempts = 0 AND created_at > now() - interval '10 minutes')`).Scan(&jobs, &hooks)
		if err != nil || (jobs < 50 && hooks < 200) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "loadgen: "+format+"\n", args...)
}

// linkAccounts links each citizen's account at each bank and waits until
// every one is active. Linking is idempotent, so a second run reuses them.
func (b *bench) linkAccounts(ctx context.Context) error {
	for _, code := range b.banks {
		if err := b.c.setKnobs(ctx, code, map[string]any{"down": false, "never_call_back": false, "sync": false}); err != nil {
			return err
		}
	}
	b.accounts = make([][]string, len(b.cits))
	var wg sync.WaitGroup
	errs := make(chan error, len(b.cits))
	sem := make(chan struct{}, 16)
	for i, ct := range b.cits {
		b.accounts[i] = make([]string, len(b.banks))
		for k, code := range b.banks {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				body, _ := json.Marshal(map[string]string{"bank_code": code, "account_number": ct.Accounts[code]})
				// The key names the citizen by index: personal data never goes into a key.
				r := b.c.untilAdmitted(ctx, func() result {
					return b.c.citizenDo(ctx, i, http.MethodPost, "/v1/me/accounts", body, fmt.Sprintf("link-%s-%d", code, i))
				})
				if r.Status != http.StatusAccepted {
					errs <- fmt.Errorf("link citizen %d at %s: %d %s %v", i, code, r.Status, r.Body, r.Err)
					return
				}
				b.accounts[i][k] = idOf(r.Body)
			})
		}
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := range b.cits {
		for {
			r := b.c.citizenDo(ctx, i, http.MethodGet, "/v1/me/accounts", nil, "")
			var list struct {
				Data []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"data"`
			}
			_ = json.Unmarshal(r.Body, &list)
			active := 0
			for _, a := range list.Data {
				for _, want := range b.accounts[i] {
					if a.ID == want && a.Status == "active" {
						active++
					}
				}
			}
			if active == len(b.banks) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("citizen %d's accounts are not active after 60 s: %s", i, r.Body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	b.logf("%d citizens with an active account at each of %s", len(b.cits), strings.Join(b.banks, ", "))
	return nil
}

// receiveWebhooks answers the portal's webhooks 204, counting them, so that
// deliveries succeed at the first attempt as with a healthy portal.
func (b *bench) receiveWebhooks(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook listener on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		b.webhooks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
