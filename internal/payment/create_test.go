package payment

import (
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

func str(s string) *string { return &s }

func TestValidateDefaultsAndSum(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	in := CreateInput{CitizenPID: "079203001234", DossierCode: "D", ServiceCode: "S", Description: "x", Currency: "VND",
		Items:  []ItemInput{{Code: "A", Description: "a", Amount: str("999999999999999998")}, {Code: "B", Description: "b", Amount: str("1")}},
		Amount: str("999999999999999999")}
	d, err := Validate(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Amount.String() != "999999999999999999" || !d.ExpiresAt.Equal(now.Add(24*time.Hour)) || d.Metadata == nil {
		t.Fatalf("draft %+v", d)
	}
	exact := now.Add(MaxExpiry)
	in.ExpiresAt = &exact
	if _, err := Validate(in, now); err != nil {
		t.Fatalf("30 days exactly refused: %v", err)
	}
	late := exact.Add(time.Second)
	in.ExpiresAt = &late
	if _, err := Validate(in, now); fault.CodeOf(err) != fault.InvalidExpiry {
		t.Fatalf("30 days and a second: %v", err)
	}
}
