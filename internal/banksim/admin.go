package banksim

import (
	"encoding/json"
	"net/http"

	"github.com/citizenpay/gateway/internal/pii"
)

// The admin routes under /_sim/ are unsigned: they serve tests and operators
// on the same listener, and keep working while Knobs.Down is set.

func (s *Server) handleGetKnobs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Knobs())
}

// handleSetKnobs changes the knobs the body names and answers all of them.
func (s *Server) handleSetKnobs(w http.ResponseWriter, r *http.Request) {
	k := s.Knobs()
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&k); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if err := k.validate(); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	s.SetKnobs(k)
	s.log.Info("knobs changed", "knobs", toKnobsJSON(k))
	writeJSON(w, http.StatusOK, k)
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request) {
	n, err := pii.NormalizeAccount(r.PathValue("number"))
	b, ok := s.ledger.balance(n)
	if err != nil || !ok {
		writeProblem(w, http.StatusNotFound, "not_found", "No such account.")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Number  string `json:"number"`
		Balance string `json:"balance"`
	}{n, b.String()})
}

func (s *Server) handleGetStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}
