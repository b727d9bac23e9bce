package receipt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The PDF tests read the PDF as a person's tools would: poppler's pdftotext
// and pdfimages, and zbar's zbarimg for the QR code. `scripts/services.sh
// up` installs them (poppler-utils, zbar-tools).
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/services.sh up (it installs poppler-utils and zbar-tools)", name)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool(t, name), args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %v: %v: %s", name, args, err, ee.Stderr)
		}
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// writePDF renders r in lang into a fresh directory and returns its path.
func writePDF(t *testing.T, r Receipt, lang string) string {
	t.Helper()
	b, err := PDF(r, lang)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("PDF starts %q", b[:min(len(b), 8)])
	}
	path := filepath.Join(t.TempDir(), "receipt.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// text is the PDF's text as pdftotext reads it, white space collapsed so
// that a line break inside a phrase does not hide it.
func text(t *testing.T, path string) string {
	t.Helper()
	return strings.Join(strings.Fields(run(t, "pdftotext", "-enc", "UTF-8", path, "-")), " ")
}

func TestPDFText(t *testing.T) {
	t.Parallel()
	r := sampleReceipt(t)
	r.AmountInWords = "Một triệu không trăm linh năm nghìn đồng" // every diacritic kind in one phrase
	r.Amount, r.Items[0].Amount = "1005000", "980000"
	vi := text(t, writePDF(t, r, "vi"))
	for _, want := range []string{"BIÊN LAI THU TIỀN", "2026/000042", "Một triệu không trăm linh năm nghìn đồng",
		"1.005.000 đồng", "980.000 đồng", "Nguyễn Văn An", "079******234", "Cổng dịch vụ công Thành phố Hồ Chí Minh",
		"1.001234", "HCM-2026-000123", "FT26336123456", "SBX", "15:30:00 ngày 02/12/2026", "Phí thẩm định hồ sơ",
		r.VerifyURL} {
		if !strings.Contains(vi, want) {
			t.Errorf("the Vietnamese PDF lacks %q:\n%s", want, vi)
		}
	}
	if strings.Contains(vi, testPID) {
		t.Error("the PDF shows the pid in clear")
	}
	en := text(t, writePDF(t, r, "en"))
	for _, want := range []string{"PAYMENT RECEIPT", "2026/000042", "Amount in words", "Một triệu không trăm linh năm nghìn đồng",
		"1,005,000 VND", "2026-12-02 15:30:00 (GMT+7)"} {
		if !strings.Contains(en, want) {
			t.Errorf("the English PDF lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(en, "BIÊN LAI") || strings.Contains(en, "Người nộp") {
		t.Errorf("the English PDF has Vietnamese labels:\n%s", en)
	}
}

// TestPDFQRCode: the one image of the PDF is a QR code that decodes to
// verify_url.
func TestPDFQRCode(t *testing.T) {
	t.Parallel()
	r := sampleReceipt(t)
	path := writePDF(t, r, "vi")
	dir := filepath.Dir(path)
	run(t, "pdfimages", "-png", path, filepath.Join(dir, "img"))
	images, _ := filepath.Glob(filepath.Join(dir, "img-*.png"))
	if len(images) != 1 {
		t.Fatalf("pdfimages found %d images, want the QR code alone", len(images))
	}
	if got := strings.TrimSpace(run(t, "zbarimg", "--quiet", "--raw", images[0])); got != r.VerifyURL {
		t.Errorf("the QR code reads %q, want %q", got, r.VerifyURL)
	}
}

// TestPDFDeterministic renders one receipt several times: a map's order
// (fpdf keeps fonts in one) must not reach the bytes.
func TestPDFDeterministic(t *testing.T) {
	t.Parallel()
	r := sampleReceipt(t)
	first, err := PDF(r, "vi")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, err := PDF(r, "vi")
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("rendering %d differs from the first (%d and %d bytes; %v)", i+2, len(first), len(again), err)
		}
	}
}

func TestPDFRefuses(t *testing.T) {
	t.Parallel()
	r := sampleReceipt(t)
	if _, err := PDF(r, "fr"); !errors.Is(err, ErrLang) {
		t.Errorf("PDF in fr: %v, want ErrLang", err)
	}
	for name, change := range map[string]func(*Receipt){
		"no verify_url":   func(r *Receipt) { r.VerifyURL = "" },
		"bad paid_at":     func(r *Receipt) { r.PaidAt = "2026-12-02 08:30" },
		"float amount":    func(r *Receipt) { r.Amount = "75000.0" },
		"bad item amount": func(r *Receipt) { r.Items[1].Amount = "-1" },
	} {
		bad := sampleReceipt(t)
		change(&bad)
		if _, err := PDF(bad, "vi"); err == nil {
			t.Errorf("%s: PDF rendered it", name)
		}
	}
}
