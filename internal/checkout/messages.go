package checkout

// The pages' words: one table per language, the same keys in each
// (messages_test.go checks). Templates and handlers take every string from
// here; nothing a citizen reads is written anywhere else.

// messages is one language's table.
type messages map[string]string

// lang returns the language asked for: "en" or the default "vi".
func lang(v string) string {
	if v == "en" {
		return "en"
	}
	return "vi"
}

// table returns the messages of lang.
func table(lang string) messages {
	if lang == "en" {
		return english
	}
	return vietnamese
}

var vietnamese = messages{
	"site_name":       "Thanh toán phí, lệ phí",
	"site_sub":        "Cổng thanh toán trực tuyến",
	"skip":            "Bỏ qua, đến nội dung chính",
	"other_lang":      "English",
	"other_lang_code": "en",
	"footer":          "Giao dịch được bảo vệ. Cổng thanh toán không lưu số định danh hay số tài khoản của bạn dưới dạng đọc được.",

	"fee_heading":  "Khoản phí cần nộp",
	"portal":       "Cơ quan thu",
	"service":      "Thủ tục",
	"dossier":      "Mã hồ sơ",
	"description":  "Nội dung",
	"items":        "Chi tiết khoản phí",
	"item":         "Khoản",
	"item_amount":  "Số tiền",
	"amount_total": "Tổng số tiền",
	"expires":      "Hạn thanh toán",
	"status":       "Trạng thái",

	"status_pending":            "Chờ thanh toán",
	"status_processing":         "Đang xử lý",
	"status_paid":               "Đã thanh toán",
	"status_failed":             "Thanh toán chưa thành công",
	"status_unknown":            "Chưa có kết quả",
	"status_expired":            "Đã hết hạn",
	"status_canceled":           "Đã hủy",
	"status_refunded":           "Đã hoàn tiền",
	"status_partially_refunded": "Đã hoàn tiền một phần",

	"signin_heading": "Đăng nhập để thanh toán",
	"signin_lead":    "Đăng nhập bằng tài khoản định danh điện tử để chọn tài khoản ngân hàng và nộp phí.",
	"signin_button":  "Đăng nhập bằng định danh điện tử",
	"signed_in_as":   "Người nộp:",
	"signout":        "Đăng xuất",

	"accounts_heading": "Chọn tài khoản thanh toán",
	"accounts_legend":  "Tài khoản ngân hàng đã liên kết",
	"default_account":  "mặc định",
	"no_accounts":      "Bạn chưa có tài khoản ngân hàng nào được liên kết. Hãy liên kết một tài khoản bên dưới.",
	"pay_button":       "Thanh toán",
	"pay_note":         "Bấm một lần. Nếu bấm lại hoặc tải lại trang, bạn cũng không bị trừ tiền hai lần.",

	"link_heading":        "Liên kết tài khoản mới",
	"bank_label":          "Ngân hàng",
	"bank_choose":         "Chọn ngân hàng",
	"account_number":      "Số tài khoản",
	"account_number_hint": "Từ 6 đến 19 chữ số, đứng tên bạn.",
	"link_button":         "Liên kết tài khoản",
	"verifying":           "Đang chờ ngân hàng xác nhận tài khoản. Trang sẽ tự cập nhật.",
	"link_rejected":       "Không liên kết được tài khoản.",

	"reason_not_verified":  "Ngân hàng không xác nhận tài khoản này đứng tên bạn.",
	"reason_bank_timeout":  "Ngân hàng không trả lời kịp thời. Vui lòng thử lại.",
	"reason_account_taken": "Tài khoản này đã được người khác liên kết.",

	"processing_heading": "Đang xử lý thanh toán",
	"processing_lead":    "Ngân hàng đang xử lý giao dịch. Trang này tự cập nhật; bạn không cần thanh toán lại.",
	"unknown_heading":    "Chưa có kết quả từ ngân hàng",
	"unknown_lead":       "Bạn có thể đóng trang này. Cơ quan thu sẽ được thông báo ngay khi ngân hàng trả lời, và bạn không bị trừ tiền hai lần.",

	"paid_heading":    "Thanh toán thành công",
	"receipt_heading": "Biên lai thu tiền",
	"receipt_number":  "Số biên lai",
	"amount":          "Số tiền",
	"amount_in_words": "Bằng chữ",
	"paid_at":         "Thời gian nộp",
	"payer":           "Người nộp",
	"receipt_pdf":     "Tải biên lai (PDF)",
	"receipt_qr":      "Mã QR để kiểm tra biên lai",
	"receipt_pending": "Biên lai đang được lập. Vui lòng tải lại trang sau ít phút.",

	"failed_heading": "Thanh toán chưa thành công",
	"failed_lead":    "Bạn chưa bị trừ tiền. Hãy chọn tài khoản khác hoặc thử lại.",

	"bank_INSUFFICIENT_FUNDS": "Tài khoản không đủ số dư.",
	"bank_HOLDER_MISMATCH":    "Tài khoản không đứng tên người nộp.",
	"bank_ACCOUNT_NOT_FOUND":  "Ngân hàng không tìm thấy tài khoản.",
	"bank_other":              "Ngân hàng đã từ chối giao dịch.",

	"final_expired":            "Khoản phí này đã hết hạn thanh toán.",
	"final_canceled":           "Cơ quan thu đã hủy khoản phí này.",
	"final_refunded":           "Khoản phí này đã được hoàn tiền.",
	"final_partially_refunded": "Khoản phí này đã được hoàn một phần tiền.",

	"return": "Quay lại trang dịch vụ",

	"forbidden_heading":   "Khoản phí này dành cho người khác",
	"notfound_heading":    "Không tìm thấy khoản phí",
	"notfound_lead":       "Đường dẫn không đúng hoặc khoản phí không còn. Vui lòng quay lại trang dịch vụ.",
	"loa_heading":         "Cần định danh điện tử mức độ 2",
	"loa_lead":            "Để nộp phí, tài khoản định danh điện tử của bạn cần ở mức độ 2. Hãy nâng mức định danh rồi đăng nhập lại.",
	"unavailable_heading": "Trang thanh toán tạm thời chưa hoạt động",
	"unavailable_lead":    "Vui lòng thử lại sau ít phút.",

	"error_heading":       "Không thực hiện được",
	"err_csrf_invalid":    "Biểu mẫu đã hết hạn hoặc không hợp lệ. Chưa có thay đổi nào. Hãy tải lại trang và thử lại.",
	"err_signin_invalid":  "Lần đăng nhập này không hợp lệ hoặc đã được dùng. Chưa có thay đổi nào. Hãy đăng nhập lại.",
	"err_signin_failed":   "Đăng nhập không thành công. Chưa có thay đổi nào.",
	"err_session_expired": "Phiên làm việc đã hết hạn. Hãy đăng nhập lại.",
	"back_to_request":     "Quay lại khoản phí",
	"error_code":          "Mã lỗi",

	"notice_account_not_active":  "Tài khoản này chưa sẵn sàng để thanh toán. Hãy chọn tài khoản khác.",
	"notice_account_required":    "Hãy chọn một tài khoản.",
	"notice_payment_in_progress": "Khoản phí đang được thanh toán.",
	"notice_invalid_state":       "Khoản phí không còn thanh toán được.",
	"notice_bank_unavailable":    "Ngân hàng này tạm thời không phục vụ. Hãy chọn tài khoản khác hoặc thử lại sau.",
	"notice_link_paused":         "Bạn đã liên kết không thành công nhiều lần. Vui lòng thử lại sau.",
	"notice_account_taken":       "Tài khoản này đã được người khác liên kết.",
	"notice_account_limit":       "Bạn đã liên kết đủ số tài khoản tối đa.",
	"notice_bank_code":           "Hãy chọn một ngân hàng.",
	"notice_account_number":      "Số tài khoản gồm 6 đến 19 chữ số.",
	"notice_form_stale":          "Trang đã cũ. Đây là trạng thái mới nhất.",
	"notice_unavailable":         "Hệ thống đang bận. Chưa có thay đổi nào; hãy thử lại.",
	"notice_rate_limited":        "Bạn thao tác quá nhanh. Hãy đợi một chút rồi thử lại.",
	"notice_linked":              "Đã gửi yêu cầu xác nhận tài khoản tới ngân hàng.",
}

var english = messages{
	"site_name":       "Fee payment",
	"site_sub":        "Online payment gateway",
	"skip":            "Skip to main content",
	"other_lang":      "Tiếng Việt",
	"other_lang_code": "vi",
	"footer":          "Your payment is protected. The gateway never keeps your ID number or account number in readable form.",

	"fee_heading":  "Fee to pay",
	"portal":       "Collected by",
	"service":      "Service",
	"dossier":      "Dossier code",
	"description":  "Description",
	"items":        "Fee details",
	"item":         "Item",
	"item_amount":  "Amount",
	"amount_total": "Total",
	"expires":      "Pay by",
	"status":       "Status",

	"status_pending":            "Awaiting payment",
	"status_processing":         "Processing",
	"status_paid":               "Paid",
	"status_failed":             "Payment not completed",
	"status_unknown":            "Outcome not known yet",
	"status_expired":            "Expired",
	"status_canceled":           "Canceled",
	"status_refunded":           "Refunded",
	"status_partially_refunded": "Partially refunded",

	"signin_heading": "Sign in to pay",
	"signin_lead":    "Sign in with your national e-identity to choose a bank account and pay.",
	"signin_button":  "Sign in with e-identity",
	"signed_in_as":   "Payer:",
	"signout":        "Sign out",

	"accounts_heading": "Choose the account to pay from",
	"accounts_legend":  "Your linked bank accounts",
	"default_account":  "default",
	"no_accounts":      "You have no linked bank account yet. Link one below.",
	"pay_button":       "Pay",
	"pay_note":         "Press once. Pressing again or reloading the page never charges you twice.",

	"link_heading":        "Link a new account",
	"bank_label":          "Bank",
	"bank_choose":         "Choose a bank",
	"account_number":      "Account number",
	"account_number_hint": "6 to 19 digits, in your name.",
	"link_button":         "Link account",
	"verifying":           "Waiting for the bank to confirm the account. This page updates itself.",
	"link_rejected":       "The account could not be linked.",

	"reason_not_verified":  "The bank did not confirm that this account is in your name.",
	"reason_bank_timeout":  "The bank did not answer in time. Please try again.",
	"reason_account_taken": "Someone else has already linked this account.",

	"processing_heading": "Processing your payment",
	"processing_lead":    "The bank is processing the payment. This page updates itself; you do not need to pay again.",
	"unknown_heading":    "No answer from the bank yet",
	"unknown_lead":       "You may close this page. The agency will be told as soon as the bank answers, and you will never be charged twice.",

	"paid_heading":    "Payment complete",
	"receipt_heading": "Receipt",
	"receipt_number":  "Receipt number",
	"amount":          "Amount",
	"amount_in_words": "In words",
	"paid_at":         "Paid at",
	"payer":           "Payer",
	"receipt_pdf":     "Download the receipt (PDF)",
	"receipt_qr":      "QR code to verify the receipt",
	"receipt_pending": "The receipt is being prepared. Please reload the page in a few minutes.",

	"failed_heading": "The payment did not go through",
	"failed_lead":    "You have not been charged. Choose another account or try again.",

	"bank_INSUFFICIENT_FUNDS": "The account does not have enough funds.",
	"bank_HOLDER_MISMATCH":    "The account is not in the payer's name.",
	"bank_ACCOUNT_NOT_FOUND":  "The bank could not find the account.",
	"bank_other":              "The bank declined the payment.",

	"final_expired":            "This fee can no longer be paid: its time has passed.",
	"final_canceled":           "The agency has canceled this fee.",
	"final_refunded":           "This fee has been refunded.",
	"final_partially_refunded": "Part of this fee has been refunded.",

	"return": "Back to the service",

	"forbidden_heading":   "This fee is addressed to someone else",
	"notfound_heading":    "Fee not found",
	"notfound_lead":       "The link is wrong or the fee no longer exists. Please go back to the service.",
	"loa_heading":         "Level 2 e-identity needed",
	"loa_lead":            "To pay, your e-identity must be at level 2. Raise its level, then sign in again.",
	"unavailable_heading": "The payment page is not available yet",
	"unavailable_lead":    "Please try again in a few minutes.",

	"error_heading":       "That did not work",
	"err_csrf_invalid":    "The form has expired or is not valid. Nothing was changed. Reload the page and try again.",
	"err_signin_invalid":  "This sign-in is not valid or was already used. Nothing was changed. Please sign in again.",
	"err_signin_failed":   "The sign-in did not succeed. Nothing was changed.",
	"err_session_expired": "Your session has expired. Please sign in again.",
	"back_to_request":     "Back to the fee",
	"error_code":          "Error code",

	"notice_account_not_active":  "This account is not ready to pay from. Choose another one.",
	"notice_account_required":    "Choose an account.",
	"notice_payment_in_progress": "This fee is already being paid.",
	"notice_invalid_state":       "This fee can no longer be paid.",
	"notice_bank_unavailable":    "This bank is not available just now. Choose another account or try again later.",
	"notice_link_paused":         "Several links did not succeed. Please try again later.",
	"notice_account_taken":       "Someone else has already linked this account.",
	"notice_account_limit":       "You have linked the most accounts allowed.",
	"notice_bank_code":           "Choose a bank.",
	"notice_account_number":      "An account number has 6 to 19 digits.",
	"notice_form_stale":          "That page was out of date. This is the latest.",
	"notice_unavailable":         "The system is busy. Nothing was changed; please try again.",
	"notice_rate_limited":        "You are going too fast. Wait a moment, then try again.",
	"notice_linked":              "The bank has been asked to confirm the account.",
}
