package receipt

import (
	"bytes"
	_ "embed" // the fonts below
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"
	"golang.org/x/text/unicode/norm"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/wire"
)

// DejaVu Sans covers every Vietnamese letter precomposed; its licence is
// fonts/LICENSE.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// ErrLang is PDF's refusal of a language other than vi (or "") and en.
var ErrLang = errors.New(`receipt: lang must be "vi", "en" or ""`)

// Page geometry in millimetres: A5 portrait.
const (
	pageMargin = 12.0
	labelWidth = 40.0
	lineHeight = 5.0
	qrSize     = 34.0
	fontFamily = "DejaVu"
)

// labels are the words of a PDF in one language.
type labels struct {
	gateway, title, number, portal, service, dossier, description, payer, pid string
	paidAt, bank, reference, items, total, inWords, issuedAt, scan, receiptID string
	// amount and when format an amount (its wire digits) and a time.
	amount func(digits string) string
	when   func(t time.Time) string
}

var vietnamese = labels{
	gateway: "Cổng thanh toán phí, lệ phí dịch vụ công", title: "BIÊN LAI THU TIỀN",
	number: "Số", portal: "Đơn vị thu", service: "Mã dịch vụ", dossier: "Mã hồ sơ",
	description: "Nội dung", payer: "Người nộp", pid: "Số định danh", paidAt: "Thời gian nộp",
	bank: "Ngân hàng", reference: "Mã giao dịch", items: "Khoản thu", total: "Tổng cộng",
	inWords: "Số tiền bằng chữ", issuedAt: "Ngày lập", receiptID: "Mã biên lai",
	scan:   "Quét mã QR hoặc mở địa chỉ dưới đây để kiểm tra biên lai:",
	amount: func(d string) string { return group(d, '.') + " đồng" },
	when: func(t time.Time) string {
		return t.In(Location()).Format("15:04:05 ngày 02/01/2006") + " (GMT+7)"
	},
}

var english = labels{
	gateway: "Public service fee payment gateway", title: "PAYMENT RECEIPT",
	number: "No.", portal: "Collected by", service: "Service code", dossier: "Dossier code",
	description: "Description", payer: "Paid by", pid: "Personal ID", paidAt: "Paid at",
	bank: "Bank", reference: "Bank reference", items: "Items", total: "Total",
	inWords: "Amount in words", issuedAt: "Issued at", receiptID: "Receipt id",
	scan:   "Scan the QR code or open the address below to verify this receipt:",
	amount: func(d string) string { return group(d, ',') + " VND" },
	when: func(t time.Time) string {
		return t.In(Location()).Format("2006-01-02 15:04:05") + " (GMT+7)"
	},
}

// PDF renders r as a one-page A5 receipt (longer item lists flow onto more
// pages) in lang: "vi" or "" for Vietnamese, "en" for English labels. The
// data are r's own whatever the language: amount_in_words stays the
// Vietnamese reading the receipt signs. It shows the gateway's name, the
// title, number, portal, service, dossier, description, payer (name and
// masked pid), paid_at in Asia/Ho_Chi_Minh, bank and reference, the items,
// the total in figures and in words, and the QR code of r.VerifyURL with
// the URL printed under it. The same receipt gives the same bytes: the
// document's dates are r's issued_at.
func PDF(r Receipt, lang string) ([]byte, error) {
	var l labels
	switch lang {
	case "", "vi":
		l, lang = vietnamese, "vi"
	case "en":
		l = english
	default:
		return nil, fmt.Errorf("%w, not %q", ErrLang, lang)
	}
	paidAt, err := wire.ParseTime(r.PaidAt)
	if err != nil {
		return nil, fmt.Errorf("receipt %s: paid_at %q: %w", r.ID, r.PaidAt, err)
	}
	issuedAt, err := wire.ParseTime(r.IssuedAt)
	if err != nil {
		return nil, fmt.Errorf("receipt %s: issued_at %q: %w", r.ID, r.IssuedAt, err)
	}
	if r.VerifyURL == "" {
		return nil, fmt.Errorf("receipt %s: no verify_url for its QR code", r.ID)
	}
	for _, a := range append([]string{r.Amount}, itemAmounts(r.Items)...) {
		if _, err := money.Parse(a); err != nil {
			return nil, fmt.Errorf("receipt %s: amount %q: %w", r.ID, a, err)
		}
	}
	qr, err := qrcode.Encode(r.VerifyURL, qrcode.Medium, 512)
	if err != nil {
		return nil, fmt.Errorf("receipt %s: QR code: %w", r.ID, err)
	}

	f := fpdf.New("P", "mm", "A5", "")
	f.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	f.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	f.SetMargins(pageMargin, pageMargin, pageMargin)
	f.SetAutoPageBreak(true, pageMargin)
	f.SetCatalogSort(true) // resources in a fixed order, not a map's
	f.SetCreationDate(issuedAt)
	f.SetModificationDate(issuedAt)
	f.SetLang(lang)
	f.SetTitle(l.title+" "+r.Number, true)
	f.SetCreator(l.gateway, true)
	f.AddPage()
	p := page{f: f, width: 0}
	p.width, _ = f.GetPageSize()
	p.width -= 2 * pageMargin

	// Heading: who issues it, what it is, its number.
	f.SetTextColor(90, 90, 90)
	f.SetFont(fontFamily, "", 9)
	f.CellFormat(p.width, lineHeight, clean(l.gateway), "", 1, "C", false, 0, "")
	f.SetTextColor(0, 0, 0)
	f.SetFont(fontFamily, "B", 15)
	f.CellFormat(p.width, 9, l.title, "", 1, "C", false, 0, "")
	f.SetFont(fontFamily, "", 10)
	f.CellFormat(p.width, lineHeight, l.number+": "+clean(r.Number), "", 1, "C", false, 0, "")
	p.rule(3)

	// Who was paid, for what, by whom, how.
	p.row(l.portal, r.Portal.Name)
	p.row(l.service, r.ServiceCode)
	p.row(l.dossier, r.DossierCode)
	if r.Description != "" {
		p.row(l.description, r.Description)
	}
	p.row(l.payer, r.Payer.Name)
	p.row(l.pid, r.Payer.PIDMasked)
	p.row(l.paidAt, l.when(paidAt))
	p.row(l.bank, r.BankCode)
	p.row(l.reference, r.BankReference)
	p.rule(2)

	// The items, then the total in figures and in words.
	f.SetFont(fontFamily, "B", 9)
	f.CellFormat(p.width, lineHeight, l.items, "", 1, "L", false, 0, "")
	for _, it := range r.Items {
		name := it.Code
		if it.Description != "" {
			name += " — " + it.Description
		}
		p.item(name, l.amount(it.Amount), "")
	}
	p.rule(1)
	p.item(l.total, l.amount(r.Amount), "B")
	p.row(l.inWords, r.AmountInWords)
	p.rule(2)

	// How to check it: the QR code of verify_url, the URL itself under it
	// (in a smaller size where that keeps it on one line), then the
	// receipt's id and issue time.
	f.SetFont(fontFamily, "", 8)
	scanLines := len(f.SplitText(l.scan, p.width))
	urlSize := 8.0
	for urlSize > 6 && f.GetStringWidth(r.VerifyURL)*urlSize/8 > p.width-2 {
		urlSize -= 0.5
	}
	f.SetFont(fontFamily, "", urlSize)
	urlLines := f.SplitText(r.VerifyURL, p.width)
	need := qrSize + float64(scanLines+len(urlLines)+3)*4
	if _, h := f.GetPageSize(); f.GetY()+need > h-pageMargin {
		f.AddPage()
	}
	f.SetFont(fontFamily, "", 8)
	f.MultiCell(p.width, 4, l.scan, "", "L", false)
	y := f.GetY() + 1
	f.RegisterImageOptionsReader("verify-qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	f.ImageOptions("verify-qr", pageMargin+(p.width-qrSize)/2, y, qrSize, qrSize, false,
		fpdf.ImageOptions{ImageType: "PNG"}, 0, r.VerifyURL)
	f.SetY(y + qrSize + 1)
	f.SetFont(fontFamily, "", urlSize)
	for _, line := range urlLines {
		f.CellFormat(p.width, 4, line, "", 1, "C", false, 0, r.VerifyURL)
	}
	f.Ln(2)
	f.SetFont(fontFamily, "", 8)
	f.SetTextColor(90, 90, 90)
	f.CellFormat(p.width, 4, l.receiptID+": "+clean(r.ID), "", 1, "C", false, 0, "")
	f.CellFormat(p.width, 4, l.issuedAt+": "+l.when(issuedAt), "", 1, "C", false, 0, "")

	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		return nil, fmt.Errorf("receipt %s: PDF: %w", r.ID, err)
	}
	return out.Bytes(), nil
}

// page draws the rows of a receipt one under the other.
type page struct {
	f     *fpdf.Fpdf
	width float64 // between the margins
}

// row draws a grey label and its value beside it, each wrapped in its
// column, and moves below the taller.
func (p page) row(label, value string) {
	p.columns(label, labelWidth, "L", value, p.width-labelWidth, "L", "", true)
}

// item draws an item's name and its amount aligned right.
func (p page) item(name, amount, style string) {
	const amountWidth = 38.0
	p.columns(name, p.width-amountWidth, "L", amount, amountWidth, "R", style, false)
}

// columns draws two wrapped columns side by side in style ("" or "B"),
// the left one grey when it is a label.
func (p page) columns(left string, lw float64, la string, right string, rw float64, ra, style string, greyLeft bool) {
	f := p.f
	left, right = clean(left), clean(right)
	f.SetFont(fontFamily, style, 9)
	lines := max(len(f.SplitText(left, lw)), len(f.SplitText(right, rw)), 1)
	if _, h := f.GetPageSize(); f.GetY()+float64(lines)*lineHeight > h-pageMargin {
		f.AddPage()
	}
	x, y := f.GetXY()
	start := f.PageNo()
	if greyLeft {
		f.SetTextColor(90, 90, 90)
	}
	f.MultiCell(lw, lineHeight, left, "", la, false) // labels are short: never past the page
	f.SetTextColor(0, 0, 0)
	belowLeft := f.GetY()
	f.SetXY(x+lw, y)
	f.MultiCell(rw, lineHeight, right, "", ra, false)
	if f.PageNo() == start {
		f.SetY(max(belowLeft, f.GetY()))
	}
	f.SetX(x)
}

// rule draws a thin grey line across the page with gap millimetres of air
// above and below.
func (p page) rule(gap float64) {
	f := p.f
	f.Ln(gap)
	y := f.GetY()
	f.SetDrawColor(180, 180, 180)
	f.SetLineWidth(0.2)
	f.Line(pageMargin, y, pageMargin+p.width, y)
	f.Ln(gap)
}

// clean readies text for the embedded font: NFC, so that a decomposed
// Vietnamese letter takes the font's precomposed glyph, and every rune the
// font's tables cannot hold (outside the Basic Multilingual Plane, or a
// control character) replaced by "?"; format characters such as bidi
// overrides are dropped, so that no text can reorder what is printed.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || r > 0xffff:
			return '?'
		case unicode.Is(unicode.Cf, r): // bidi overrides and other invisible controls
			return -1
		}
		return r
	}, norm.NFC.String(s))
}

// group writes the digits of an amount in groups of three separated by sep:
// "1500000" → "1.500.000".
func group(digits string, sep byte) string {
	var b strings.Builder
	for i := 0; i < len(digits); i++ {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

func itemAmounts(items []wire.Item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Amount)
	}
	return out
}
