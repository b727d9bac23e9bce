package receiptpage

// texts are the page's words in one language.
type texts struct {
	Title, Authentic, NotAuthentic                          string
	Number, Portal, Service, Dossier, Amount, PaidAt, Payer string
	Refunds, NoRefunds, NotFoundTitle, NotFound, OtherLang  string
}

var vi = texts{
	Title:        "Biên lai thu tiền",
	Authentic:    "Biên lai này là thật: do cổng thanh toán cấp và ký.",
	NotAuthentic: "Không xác thực được chữ ký của biên lai này.",
	Number:       "Số biên lai", Portal: "Cổng dịch vụ", Service: "Mã thủ tục", Dossier: "Mã hồ sơ",
	Amount: "Số tiền", PaidAt: "Thanh toán lúc", Payer: "Người nộp",
	Refunds: "Hoàn tiền sau đó", NoRefunds: "Chưa có khoản hoàn tiền nào.",
	NotFoundTitle: "Không tìm thấy biên lai",
	NotFound:      "Đường dẫn này không dẫn tới biên lai nào. Hãy kiểm tra lại mã QR hoặc đường dẫn trên biên lai.",
	OtherLang:     "English",
}

var en = texts{
	Title:        "Payment receipt",
	Authentic:    "This receipt is authentic: issued and signed by the payment gateway.",
	NotAuthentic: "The signature of this receipt could not be verified.",
	Number:       "Receipt number", Portal: "Portal", Service: "Service code", Dossier: "Dossier",
	Amount: "Amount", PaidAt: "Paid at", Payer: "Payer",
	Refunds: "Refunds since", NoRefunds: "No refunds.",
	NotFoundTitle: "Receipt not found",
	NotFound:      "This link leads to no receipt. Check the QR code or the link on the receipt.",
	OtherLang:     "Tiếng Việt",
}

func textsOf(lang string) texts {
	if lang == "en" {
		return en
	}
	return vi
}
