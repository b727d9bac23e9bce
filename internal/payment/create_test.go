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

func TestValidateRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	valid := func() CreateInput {
		return CreateInput{CitizenPID: "079203001234", DossierCode: "D-1", ServiceCode: "S", Description: "Lệ phí", Currency: "VND",
			Items:    []ItemInput{{Code: "A", Description: "a", Amount: str("1000")}},
			Amount:   str("1000"),
			Metadata: map[string]string{"note": "two\r\nlines\tand a tab"}}
	}
	if _, err := Validate(valid(), now); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	cases := []struct {
		field  string
		change func(in *CreateInput)
	}{
		{"dossier_code", func(in *CreateInput) { in.DossierCode = "D\x00" }},
		{"service_code", func(in *CreateInput) { in.ServiceCode = "S\x1f" }},
		{"description", func(in *CreateInput) { in.Description = "x\u0085" }},
		{"description", func(in *CreateInput) { in.Description = "x\r\ny" }},
		{"description", func(in *CreateInput) { in.Description = "\u202ex" }},
		{"items[0].code", func(in *CreateInput) { in.Items[0].Code = "\x7f" }},
		{"items[0].description", func(in *CreateInput) { in.Items[0].Description = "a\tb" }},
		{"metadata", func(in *CreateInput) { in.Metadata = map[string]string{"k\n": "v"} }},
		{"metadata.k", func(in *CreateInput) { in.Metadata = map[string]string{"k": "v\x00"} }},
		{"metadata.k", func(in *CreateInput) { in.Metadata = map[string]string{"k": "v\u2067"} }},
	}
	for _, tc := range cases {
		in := valid()
		tc.change(&in)
		_, err := Validate(in, now)
		f, ok := fault.As(err)
		if !ok || f.Code != fault.ValidationFailed || len(f.Fields) != 1 || f.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want one validation_failed problem for it", tc.field, err)
		}
	}
}
