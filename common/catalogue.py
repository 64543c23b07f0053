"""The message catalogue: every sentence the bot says to people, in Vietnamese, in one place.

Code refers to messages by key and fills the ``{placeholders}`` with ``t(key, **params)``.
``tests/test_catalogue.py`` checks that every key used in the code exists here, that every key
here is used, and that placeholders match.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- numbers (common/numbers.py) ---
    "number.empty": "Bạn chưa gõ số nào. Vui lòng gõ một số, ví dụ: 12.",
    "number.not_a_number": "«{text}» không phải là một số. Vui lòng gõ một số, ví dụ: 12.",
    "number.negative": "Số không được âm. Vui lòng gõ một số từ 0 trở lên.",
    "number.not_integer": "Số hộ phải là số nguyên (không có phần lẻ). Vui lòng gõ lại, ví dụ: 12.",
    "number.money_fraction": "Số tiền phải là số đồng chẵn. Vui lòng gõ lại, ví dụ: 1.500.000 hoặc 1,5tr.",
    "number.too_long": "Số quá dài. Vui lòng gõ một số ngắn gọn, ví dụ: 1.500.000 hoặc 1,5tr.",
    "number.too_large": "Số quá lớn. Vui lòng gõ một số không quá 1 triệu tỷ, ví dụ: 1.500.000.",
    # --- core ---
    "core.stranger": (
        "Xin chào! Đây là trợ lý báo cáo giảm nghèo «Vì người nghèo – Không để ai bị bỏ lại "
        "phía sau». Bạn chưa được đăng ký. Hãy xin mã mời từ cán bộ xã (hoặc quản trị viên), "
        "rồi gửi: /start MÃ-MỜI (hoặc chỉ cần gõ mã mời)."
    ),
    "core.internal_error": (
        "Xin lỗi, hệ thống gặp sự cố nên chưa xử lý được tin nhắn này. Số liệu đã nhập trước đó "
        "vẫn được giữ. Vui lòng gửi lại sau ít phút."
    ),
    # A passing database fault (issue 12): said once; the message is processed when it passes.
    "core.busy_retry": (
        "⏳ Hệ thống đang bận, tin nhắn của bạn sẽ được xử lý ngay khi có thể. "
        "Bạn không cần gửi lại."
    ),
    "core.text_only": "Tôi chỉ đọc được tin nhắn chữ. Vui lòng gõ câu trả lời bằng chữ hoặc số.",
    "core.caption_read": "(Bot không lưu ảnh; tôi đọc phần chữ gửi kèm ảnh.)",
    "core.cancelled": "Đã hủy. Không có gì được lưu.",
    "core.cancelled_saved": (
        "Đã hủy phần đang làm dở (phần này chưa được lưu). Những việc đã lưu trước đó vẫn "
        "giữ nguyên:\n{saved}"
    ),
    "core.closed_saved": "Đã đóng. Những việc đã lưu vẫn giữ nguyên:\n{saved}",
    "core.nothing_to_cancel": "Không có việc gì đang dở để hủy.",
    "core.busy": (
        "Bạn đang làm dở một việc. Hãy trả lời câu hỏi dưới đây, hoặc gõ /huy để dừng."
    ),
    "core.stale_button": (
        "Nút này đã cũ hoặc không hợp lệ. Vui lòng dùng câu hỏi mới nhất bên dưới."
    ),
    "core.not_understood": "Tôi chưa hiểu tin nhắn này. Bạn có thể chọn một việc dưới đây:",
    "core.unknown_command": "Lệnh này không có. Bạn có thể chọn một việc dưới đây:",
    "core.welcome_back": "Chào {name}! Bạn cần làm gì?",
    "core.deferred_error": "Xin lỗi, chưa lập được thống kê này do sự cố hệ thống. Vui lòng thử lại sau ít phút.",
    "core.option.stop": "⏹ Dừng việc đang làm",
    "core.which_option": "Bạn muốn chọn mục nào? Gõ số thứ tự hoặc bấm nút:",
    "core.undelivered": "Xin lỗi, câu hỏi trước chưa tới được bạn:",
    "core.unreadable": (
        "Tin nhắn có ký tự bị lỗi nên tôi không đọc được, và chưa làm theo tin nhắn này. "
        "Vui lòng gõ lại (đừng dán chữ chép từ nơi khác)."
    ),
    "core.message_too_long": (
        "Tin nhắn dài quá {max} ký tự nên tôi chưa đọc. Vui lòng gửi ngắn gọn hơn."
    ),
    # --- menu, help, roles ---
    "menu.choose": "Bạn cần làm gì?",
    "menu.option.report": "📝 Báo cáo tháng",
    "menu.option.help": "❓ Hướng dẫn",
    "menu.option.calendar": "📅 Lịch báo cáo",
    "menu.option.stats": "📊 Thống kê",
    "help.stats": "• /thongke [địa bàn] [kỳ] — số liệu, biểu đồ, xếp hạng thi đua, đề xuất khen thưởng và bảng tính Excel của địa bàn (kỳ: 10/2026, quy 3/2026, nam 2026…).",
    "help.calendar": "• /lich — lịch báo cáo, các báo cáo đến hạn của bạn và tiến độ trong địa bàn.",
    "help.remind_again": "• /nhaclai — nhắc lại các thôn chưa gửi báo cáo đang đến hạn (bấm «Nhắc lại» trong danh sách chậm).",
    "help.announce": "• /thongbao [tên địa bàn] — gửi thông báo tới mọi người trong địa bàn (xem trước rồi mới gửi).",
    "help.title": "Hướng dẫn sử dụng:",
    "help.village_head": (
        "• /baocao — gửi số liệu tháng của thôn (bot hỏi từng mục; bấm «Giữ nguyên» nếu không "
        "đổi).\n"
        "• Gửi nhanh một dòng: /baocao 120 15 8 2 1 0 3 10 5tr — theo thứ tự: tổng số hộ, hộ "
        "nghèo, cận nghèo, thoát nghèo, nghèo mới, tái nghèo, hộ nghèo DTTS, hộ có vay vốn, "
        "tiền vận động, ghi chú.\n"
        "• Báo cáo tháng khác: /baocao 9/2026"
    ),
    "help.officer": (
        "• /baocao Tên thôn — nhập hoặc sửa báo cáo tháng cho một thôn trong địa bàn (cả sau "
        "ngày khóa sổ)."
    ),
    "help.common": (
        "• /toi — xem bạn đang giữ vai trò gì.\n"
        "• /lienket — dùng trợ lý trên cả Zalo và Telegram (liên kết bằng mã một lần).\n"
        "• /huy — hủy việc đang làm dở.\n"
        "Có thể gõ không dấu, ví dụ: bao cao, huy."
    ),
    "role.village_head": "Trưởng thôn",
    "role.officer": "Cán bộ",
    "role.admin": "Quản trị viên",
    "role.line": "• {role} — {area}",
    "whoami": "Bạn là {name}.\nVai trò:\n{roles}",
    # --- the Telegram command menu (bot/channels/telegram.py) ---
    "telegram.command.baocao": "Gửi báo cáo tháng",
    "telegram.command.huy": "Hủy việc đang làm",
    "telegram.command.baocao6thang": "Gửi báo cáo sơ kết 6 tháng",
    "telegram.command.baocaonam": "Gửi báo cáo tổng kết năm",
    "telegram.command.lich": "Lịch báo cáo, việc đến hạn",
    "telegram.command.thongbao": "Gửi thông báo tới địa bàn (cán bộ)",
    "telegram.command.thongke": "Thống kê, biểu đồ, Excel (cán bộ)",
    "telegram.command.toi": "Xem vai trò của tôi",
    "telegram.command.lienket": "Liên kết với Zalo hoặc tài khoản khác",
    "telegram.command.help": "Hướng dẫn",
    "telegram.private_only": (
        "🔒 Bot chỉ trả lời trong tin nhắn riêng, để số liệu của thôn, xã không lộ ra nhóm. "
        "Hãy nhắn riêng cho bot: https://t.me/{username}"
    ),
    "telegram.leaving_group": (
        "🔒 Bot chỉ làm việc trong tin nhắn riêng, để số liệu của thôn, xã không lộ ra nhóm, "
        "nên bot xin rời nhóm này. Mỗi người hãy nhắn riêng cho bot: https://t.me/{username}"
    ),
    "telegram.edit_not_read": (
        "✏️ Bot không đọc tin nhắn đã sửa và vẫn dùng nội dung bạn gửi lúc đầu. Nếu cần, hãy "
        "gửi lại thành tin nhắn mới; trong báo cáo, số đã trả lời được sửa ở bước xem lại "
        "(nút «✏️ Sửa») trước khi gửi."
    ),
    # --- enrolment ---
    "enrol.invalid": (
        "Mã mời không đúng. Vui lòng kiểm tra lại mã (10 ký tự, ví dụ: ABCDE-23456; mã cũ có 8 "
        "ký tự) hoặc xin mã mới từ cán bộ xã."
    ),
    "enrol.used": "Mã mời này đã được dùng. Mỗi mã chỉ dùng một lần; hãy xin mã mới từ cán bộ xã.",
    "enrol.expired": "Mã mời này đã hết hạn. Hãy xin mã mới từ cán bộ xã.",
    "enrol.ask_name": (
        "Mã mời hợp lệ:\n{role}\nBạn tên là gì? Vui lòng gõ họ và tên (ví dụ: Lò Văn Páo), "
        "để cán bộ xã biết ai gửi báo cáo."
    ),
    "enrol.name_invalid": (
        "Vui lòng gõ họ và tên của bạn, chỉ gồm chữ (ví dụ: Lò Văn Páo), hoặc gõ /huy để dừng."
    ),
    "enrol.cancelled": (
        "Đã dừng. Bạn chưa được đăng ký; mã mời vẫn dùng được khi bạn gửi lại."
    ),
    "enrol.welcome": "Chào mừng {name}! Bạn đã được đăng ký:\n{role}",
    "enrol.locked": (
        "Bạn đã gửi sai mã mời {tries} lần trong {window} phút vừa qua. Để giữ an toàn, tôi tạm "
        "chưa kiểm tra mã từ tài khoản này: vui lòng thử lại sau {minutes} phút. Nếu mã vẫn "
        "không đúng, hãy hỏi lại cán bộ đã gửi mã cho bạn."
    ),
    "enrol.throttled_everyone": (
        "Lúc này có quá nhiều lượt gửi mã mời sai, nên tôi tạm dừng kiểm tra mã trong ít phút "
        "để giữ an toàn. Vui lòng gửi lại mã sau 1 phút."
    ),
    "enrol.has_role": "Bạn đã có quyền này rồi:\n{role}\nMã mời chưa bị dùng.",
    "enrol.confirm_role": (
        "⚠️ Mã mời này cho thêm quyền:\n{role}\n"
        "Hiện bạn đang có:\n{held}\n"
        "Bạn có muốn nhận thêm quyền này không? Quản trị viên và người tạo mã sẽ được báo."
    ),
    "enrol.option.accept": "✅ Có, nhận thêm quyền",
    "enrol.option.decline": "❌ Không nhận",
    "enrol.confirm_expected": "Vui lòng bấm «Có» để nhận thêm quyền, hoặc «Không» để bỏ qua.",
    "enrol.declined": (
        "Đã bỏ qua: bạn không nhận thêm quyền, và mã mời chưa bị dùng (người được mời vẫn dùng "
        "được)."
    ),
    "enrol.role_added": "Đã thêm quyền cho bạn:\n{role}",
    "enrol.notice_second_role": (
        "🔐 {name} ({account}) vừa nhận thêm quyền bằng mã mời {code}:\n{role}\n"
        "Trước đó người này có:\n{held}\n"
        "Nếu việc này không đúng, hãy liên hệ ngay với người này và người quản trị máy chủ để "
        "thu hồi quyền."
    ),
    # --- linking a second messenger (handlers/link.py) ---
    "channel.telegram": "Telegram",
    "channel.zalo": "Zalo",
    "channel.console": "Bảng điều khiển",
    "link.identity": "{channel} «{name}»",
    "link.unnamed": "không tên",
    "link.issued": (
        "🔗 Mã liên kết của bạn: {code}\n"
        "Mã chỉ dùng được một lần, trong {minutes} phút.\n"
        "Mở trợ lý này trên ứng dụng nhắn tin kia (Zalo hoặc Telegram) rồi gửi mã ở đó: chỉ cần "
        "gõ {code} (hoặc /start {code}, hoặc /lienket {code}). Sau đó bạn dùng được cả hai; "
        "nhắc việc sẽ gửi tới ứng dụng bạn dùng gần nhất.\n"
        "⚠️ Không đưa mã này cho ai: người có mã sẽ báo cáo thay bạn. Gửi /lienket lần nữa sẽ "
        "hủy mã này và cấp mã mới."
    ),
    "link.invalid": (
        "Mã liên kết không đúng. Vui lòng kiểm tra lại mã (9 ký tự, ví dụ: ABC-DEF-234), hoặc "
        "gửi /lienket trên ứng dụng bạn đang dùng để lấy mã mới."
    ),
    "link.locked": (
        "Bạn đã gửi sai mã liên kết quá nhiều lần. Để bảo vệ tài khoản, vui lòng thử lại sau "
        "{minutes} phút."
    ),
    "link.expired": (
        "Mã liên kết này đã hết hạn. Hãy gửi /lienket trên ứng dụng bạn đang dùng để lấy mã mới."
    ),
    "link.used": "Mã liên kết này đã được dùng. Mỗi mã chỉ dùng một lần; hãy gửi /lienket để lấy mã mới.",
    "link.replaced": "Mã liên kết này đã được thay bằng một mã mới hơn. Vui lòng dùng mã mới nhất.",
    "link.same_account": (
        "Đây chính là tài khoản đã xin mã. Hãy gửi mã từ ứng dụng nhắn tin kia (Zalo hoặc "
        "Telegram) hoặc từ tài khoản khác của bạn."
    ),
    "link.already": "Tài khoản này đã được liên kết với bạn từ trước, không cần mã nữa. Mã đã được hủy.",
    "link.other_person": (
        "Tài khoản này đang được dùng cho một người khác nên không thể liên kết. Nếu có nhầm "
        "lẫn, hãy báo cán bộ xã."
    ),
    "link.welcome": (
        "🔗 Đã liên kết! Chào {name}, tài khoản {channel} này giờ dùng chung với: {others}. "
        "Nhắc việc sẽ gửi tới ứng dụng bạn dùng gần nhất."
    ),
    "link.notice": (
        "🔔 Tài khoản {account} vừa được liên kết với bạn lúc {at}. Nếu không phải bạn làm, hãy "
        "gõ /lienket huy để gỡ tài khoản đó và báo ngay cán bộ xã."
    ),
    "link.stranger_help": (
        "Để liên kết, hãy gửi mã liên kết bạn nhận được trên ứng dụng kia, ví dụ: /lienket "
        "ABC-DEF-234. Chưa đăng ký? Hãy xin mã mời từ cán bộ xã."
    ),
    "link.unlink_none": (
        "Bạn chỉ dùng trợ lý trên tài khoản này nên không có tài khoản nào khác để gỡ."
    ),
    "link.unlink_pick": "Chọn tài khoản muốn gỡ khỏi bạn (tài khoản đang dùng không gỡ ở đây):",
    "link.unlink_expected": "Vui lòng chọn một tài khoản trong danh sách, hoặc gõ /huy.",
    "link.unlinked": (
        "Đã gỡ tài khoản {account}. Tài khoản đó không nhận nhắc việc và không gửi được báo "
        "cáo nữa."
    ),
    "link.unlink_gone": "Tài khoản {account} đã được gỡ từ trước.",
    "whoami.identities": "Tài khoản nhắn tin:\n{lines}",
    "whoami.identity": "• {account}",
    "whoami.identity_current": "• {account} (đang dùng)",
    "whoami.link_hint": "Muốn dùng thêm Zalo hoặc Telegram? Gõ /lienket.",
    # --- the monthly report dialog ---
    "report.title": "Báo cáo tháng {period} — {area}",
    "report.intro": "📝 Báo cáo tháng {period} — {area}.",
    "report.replaces": (
        "Tháng này đã có báo cáo (phiên bản {version}, do {name} gửi ngày {at}). Báo cáo mới "
        "sẽ là phiên bản tiếp theo; bản cũ vẫn được lưu."
    ),
    "report.no_previous": "Chưa có số liệu tháng trước, vui lòng nhập đủ từng mục.",
    "report.pick_area": "Báo cáo cho thôn nào? Chọn bên dưới hoặc gõ tên thôn.",
    "report.type_area": "Báo cáo cho thôn nào? Vui lòng gõ tên thôn (có dấu hay không dấu đều được).",
    "report.area_not_found": (
        "Không tìm thấy thôn «{query}» trong địa bàn của bạn. Vui lòng gõ lại tên thôn."
    ),
    "report.only_own_village": "Bạn chỉ được báo cáo cho thôn của mình: {village}.",
    "report.not_allowed": "Bạn không còn quyền báo cáo cho thôn này. Báo cáo chưa được lưu.",
    "report.future": "Tháng {period} chưa tới, chưa thể báo cáo: báo cáo tháng {period} gửi được từ ngày {first}.",
    "report.not_over": (
        "Tháng {period} chưa hết nên chưa báo cáo được: báo cáo tháng là số liệu cuối tháng, "
        "gửi được từ ngày {first}. Bot sẽ nhắc bạn khi đến hạn."
    ),
    "report.locked": (
        "Tháng {period} đã khóa sổ (hạn cuối {lock}). Muốn sửa số liệu tháng này, vui lòng "
        "liên hệ cán bộ xã."
    ),
    "report.pick_period": "Báo cáo cho tháng nào? Chọn bên dưới hoặc gõ tháng, ví dụ: 9/2026.",
    "report.period_expected": "Vui lòng gõ tháng theo dạng tháng/năm, ví dụ: 9/2026 hoặc t9.",
    "report.option.month": "Tháng {period}",
    "report.option.change_period": "📅 Đổi tháng",
    "report.hint_filed": "Đã báo cáo tháng này: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "report.saved": "✅ Đã lưu báo cáo tháng {period} của {area} (phiên bản {version}). Cảm ơn bạn!",
    # --- the form engine ---
    "form.question": "({n}/{total}) {prompt}",
    "form.default_hint": "Tháng trước: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "form.list_hint": "Theo danh sách hộ của thôn: {value}. Bấm «Giữ nguyên» nếu đúng.",
    "form.empty_value": "—",
    "form.option.keep": "Giữ nguyên ({value})",
    "form.option.keep_alias": "giu nguyen",
    "form.option.zero": "0 (không có)",
    "form.option.skip": "Bỏ qua",
    "form.option.cancel": "❌ Hủy",
    "form.option.send": "✅ Gửi",
    "form.option.fix": "✏️ Sửa",
    "form.option.warning_ok": "Đúng, giữ số này",
    "form.option.warning_redo": "Nhập lại",
    "form.warning_confirm": "⚠️ {warning}\nBạn có chắc số này đúng không?",
    "form.summary_line": "{n}. {label}: {value}",
    "form.summary_warning": "⚠️ Lưu ý: {warning}",
    "form.summary_confirm": "Gửi báo cáo này? (Muốn sửa mục nào, gõ: sửa 3)",
    "form.summary_expected": "Vui lòng gõ «gửi» để gửi, «sửa 3» để sửa mục 3, hoặc «hủy» để bỏ (hoặc bấm nút bên dưới).",
    "form.summary_not_sent": "Được, chưa gửi. Muốn sửa mục nào, gõ «sửa» và số thứ tự của mục (ví dụ: «sửa 3»); muốn gửi, gõ «gửi»; muốn bỏ hẳn, gõ «hủy».",
    "form.fix_which": "Sửa mục nào? Chọn hoặc gõ số thứ tự của mục.",
    "form.fix_which_after_error": "Số liệu chưa hợp lệ nên chưa gửi được. Sửa mục nào?",
    "form.fix_expected": "Vui lòng gõ số thứ tự của mục cần sửa, từ 1 đến {n}.",
    "form.fix_expected_back": (
        "Vui lòng gõ số thứ tự của mục cần sửa, từ 1 đến {n}, hoặc {back} để quay lại bản tóm tắt."
    ),
    "form.summary_sure": (
        "⚠️ Bạn có chắc các số liệu có lưu ý ở trên là đúng không? Nếu chưa đúng, gõ «sửa N» "
        "để sửa mục N."
    ),
    "form.bounds": "{label} phải từ {min} đến {max}.",
    "form.refused": "{reason} Vui lòng gõ lại.",
    "form.default_refused": "Không thể giữ nguyên {value}: {reason} Vui lòng gõ số mới.",
    "form.money_implausible": (
        "{label}: {value} là số tiền rất nhỏ (dưới {min}). Nếu ý bạn là {thousands} hay "
        "{millions}, hãy gõ {typed}k hoặc {typed}tr."
    ),
    "form.option.back": "↩️ Quay lại",
    "form.option.redo_field": "✏️ Nhập lại: {label}",
    "form.warning_type_for": "Gõ số mới để sửa mục {n} ({label}), hoặc chọn bên dưới.",
    "form.warning_which": "Số «{value}» là để sửa mục nào?",
    "form.corrected": "Đã sửa {label}: {value}.",
    "form.text_empty": "{label}: bạn chưa gõ gì. Vui lòng gõ nội dung hoặc chọn «Bỏ qua».",
    "form.text_too_long": "{label} dài quá {max} ký tự. Vui lòng viết ngắn gọn hơn.",
    "form.one_line_field_error": "Mục {n} ({label}): {error}",
    "form.one_line_too_many": "Bạn gửi nhiều số hơn {n} mục của báo cáo; vui lòng kiểm tra lại.",
    "form.option.yes": "Có",
    "form.option.no": "Không",
    "form.option.done": "✔️ Xong",
    "form.option.today": "Hôm nay",
    "form.none_selected": "Không có",
    "form.yesno_expected": "Vui lòng trả lời Có hoặc Không.",
    "form.choice_expected": "Vui lòng chọn một mục trong danh sách: gõ số thứ tự từ 1 đến {n}, hoặc gõ tên mục.",
    "form.multi_hint": "Chọn từng mục (chọn lại để bỏ), xong thì bấm «Xong»; hoặc gõ các số thứ tự, ví dụ: 1 3.",
    "form.multi_selected": "Đã chọn: {items}",
    "form.multi_expected": "Vui lòng gõ các số thứ tự từ 1 đến {n}, ví dụ: 1 3; hoặc gõ «không» nếu không chọn mục nào.",
    "form.date_expected": "Vui lòng gõ ngày theo dạng ngày/tháng/năm, ví dụ: 12/11/2026, hoặc «hôm nay» (không nhận ngày trong tương lai).",
    # --- households in chat (handlers/households.py) ---
    "menu.option.household": "🏠 Hộ gia đình",
    "menu.option.review": "✅ Duyệt, công nhận",
    "help.households": (
        "• /ho — tìm hộ theo mã hoặc tên chủ hộ (gõ không dấu cũng được), thêm hộ mới, cập nhật "
        "thu nhập và chỉ số thiếu hụt, ghi nhận hỗ trợ.\n"
        "• /dangky — các hộ đăng ký tự nguyện thoát nghèo và trạng thái; đăng ký cho một hộ."
    ),
    "help.review": "• /duyet — xem và công nhận các đề xuất phân loại hộ và đăng ký thoát nghèo trong địa bàn.",
    "households.find": "Tìm hộ: gõ mã hộ hoặc tên chủ hộ (có dấu hay không dấu đều được).",
    "households.not_found": "Không tìm thấy hộ nào khớp «{query}» trong địa bàn của bạn.",
    "households.find_to_register": "Đăng ký thoát nghèo cho hộ nào? Gõ mã hộ hoặc tên chủ hộ (có dấu hay không dấu đều được).",
    "households.pick": "Có {n} hộ khớp «{query}». Chọn một hộ, hoặc gõ thêm để tìm hẹp hơn:",
    "households.pick_page": "Đang xem hộ {first}–{last} trong {n} hộ.",
    "households.option.more": "➡️ Xem tiếp ({n} hộ nữa)",
    "households.option.first": "⬅️ Về đầu danh sách",
    "households.option.more_registrations": "➡️ Xem tiếp danh sách đăng ký ({n} hộ nữa)",
    "households.pick_village": "Thêm hộ cho thôn nào? Chọn bên dưới (hoặc gõ tên thôn).",
    "households.type_village": "Thêm hộ cho thôn nào? Gõ tên thôn (có dấu hay không dấu đều được).",
    "households.village_not_found": "Không tìm thấy thôn nào khớp «{query}» trong địa bàn của bạn.",
    "households.villages_more": "Còn {n} thôn khác cũng khớp; gõ tên đầy đủ hơn để tìm hẹp lại.",
    "households.village_in": "{village} ({commune})",
    "households.place": "{village}, {commune}",
    "households.no_village": "Bạn chưa được giao thôn nào nên chưa thêm hộ được.",
    "households.gone": "Không tìm thấy hộ này (có thể đã bị xóa hoặc không thuộc địa bàn của bạn).",
    "households.closed": "Đã đóng. Bạn cần làm gì tiếp?",
    "households.choose_action": "Vui lòng chọn một việc trong danh sách bên dưới.",
    "households.read_only": "Bạn chỉ được xem hộ này, không được sửa.",
    "households.option.add": "➕ Thêm hộ mới",
    "households.option.list": "📋 Danh sách hộ đã đủ chưa?",
    "households.list.pick": "Xem danh sách hộ của thôn nào? Chọn bên dưới hoặc gõ tên thôn.",
    "households.list.pick_counts": "Bạn phụ trách {n} thôn: {listed} thôn đã có danh sách hộ ({complete} thôn đã xác nhận đủ).",
    "households.list.pick_matches": "Có {n} thôn khớp «{query}»: {listed} thôn đã có danh sách hộ ({complete} thôn đã xác nhận đủ).",
    "households.list.pick_page": "Đang xem thôn {first}–{last} trong {n} thôn.",
    "households.list.option.more": "➡️ Xem tiếp ({n} thôn nữa)",
    "households.list.label_complete": "{village} — {n} hộ, đã xác nhận đủ",
    "households.list.label_partial": "{village} — {n} hộ, chưa xác nhận",
    "households.list.label_empty": "{village} — chưa có hộ nào",
    "households.list.no_village": "Bạn không phụ trách thôn nào nên không có danh sách hộ để xác nhận.",
    "households.list.not_found": "Không tìm thấy thôn «{query}» trong địa bàn của bạn. Vui lòng gõ lại tên thôn.",
    "households.list.complete": (
        "Danh sách hộ của {village}: {n} hộ — đã xác nhận đầy đủ ({name}, ngày {at}). Báo cáo "
        "tháng lấy số gợi ý từ danh sách này."
    ),
    "households.list.partial": (
        "Danh sách hộ của {village}: {n} trong {total} hộ (theo báo cáo tháng gần nhất) — chưa "
        "xác nhận đầy đủ, nên báo cáo tháng chưa lấy số gợi ý từ danh sách."
    ),
    "households.list.matches": (
        "Danh sách hộ của {village}: {n} hộ, đúng bằng tổng số hộ của báo cáo tháng gần nhất, "
        "nên báo cáo tháng lấy số gợi ý từ danh sách (khi tổng số hộ còn như vậy)."
    ),
    "households.list.unconfirmed": (
        "Danh sách hộ của {village}: {n} hộ — chưa xác nhận đầy đủ, nên báo cáo tháng chưa lấy "
        "số gợi ý từ danh sách."
    ),
    "households.list.explain": (
        "Khi danh sách đã có đủ mọi hộ của thôn, bấm «Danh sách hộ đã đủ»: từ đó báo cáo tháng "
        "lấy số gợi ý từ danh sách."
    ),
    "households.list.empty": "Danh sách chưa có hộ nào: hãy thêm hộ (➕ Thêm hộ mới) hoặc nhập danh sách từ tệp Excel.",
    "households.list.option.mark": "✔️ Danh sách hộ đã đủ",
    "households.list.option.unmark": "Chưa đủ (bỏ xác nhận)",
    "households.list.option.confirm": "✔️ Đúng, danh sách đã đủ",
    "households.list.confirm": (
        "Xác nhận danh sách hộ của {village} đã có đủ mọi hộ của thôn: {n} hộ ({poor} hộ nghèo, "
        "{near_poor} hộ cận nghèo)? Từ nay báo cáo tháng lấy số gợi ý từ danh sách này; việc "
        "xác nhận được ghi lại (ai, khi nào)."
    ),
    "households.list.confirm_differs": (
        "Lưu ý: danh sách có {n} hộ, nhưng báo cáo tháng gần nhất ghi tổng số {total} hộ."
    ),
    "households.list.marked": "✅ Đã ghi: danh sách hộ của {village} đã đầy đủ ({n} hộ).",
    "households.list.unmarked": (
        "Đã ghi: danh sách hộ của {village} chưa đầy đủ; báo cáo tháng chỉ lấy số gợi ý từ "
        "danh sách khi danh sách có đúng bằng tổng số hộ báo cáo."
    ),
    "households.option.assess": "📊 Cập nhật thu nhập, chỉ số",
    "households.option.support": "🎁 Ghi nhận hỗ trợ",
    "households.option.register": "✋ Đăng ký thoát nghèo",
    "households.option.edit": "✏️ Sửa thông tin",
    "households.option.rereview": "🔁 Đề nghị xét lại đăng ký thoát nghèo",
    "households.rereview_reason": "Thôn đề nghị xét lại",
    "households.rereview_done": "✅ Đã đề nghị xã xét lại đăng ký thoát nghèo của hộ.",
    "households.saved.rereview": "Đề nghị xét lại đăng ký thoát nghèo — hộ {code}",
    "households.option.done": "Xong",
    "households.card.title": "🏠 Hộ {code} — {name} ({village})",
    "households.card.status": "Phân loại: {status} (từ {since})",
    "households.card.recently_exited": "Hộ mới thoát nghèo: còn được hỗ trợ đến {until}",
    "households.card.flags": "Đặc điểm: {flags}",
    "households.card.assessment.suggested": "Đánh giá năm {year}: đề xuất {status} — chờ xã công nhận",
    "households.card.assessment.recognised": "Đánh giá năm {year}: {status} — xã đã công nhận",
    "households.card.assessment.rejected": "Đánh giá năm {year}: đề xuất {status} — xã chưa công nhận",
    "households.card.assessment.same": "Đánh giá năm {year}: {status} — đúng với phân loại hiện tại",
    "households.card.assessment.figures": "Thu nhập {income}/người/tháng. {lacking}",
    "households.card.registration": "Đăng ký thoát nghèo năm {year}: {state}",
    "households.card.reason": "Lý do: {reason}",
    "households.form_cancelled": "Đã hủy, phần vừa nhập không được lưu.",
    "households.assess.previous_hint": "Lần đánh giá trước: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "households.edit.current_hint": "Hiện tại: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "households.saved.added": "Thêm hộ {code}",
    "households.saved.edited": "Sửa thông tin — hộ {code}",
    "households.saved.support": "Ghi nhận hỗ trợ — hộ {code}",
    "households.saved.registered": "Đăng ký thoát nghèo — hộ {code}",
    "households.saved.assessed": "Cập nhật thu nhập, chỉ số — hộ {code}",
    "households.add_intro": "➕ Thêm hộ mới vào {village}.",
    "households.add_title": "Hộ mới — {village}",
    "households.form_title": "Hộ {code} — {name}",
    "households.added": "✅ Đã thêm hộ {code}.",
    "households.saved": "✅ Đã lưu thông tin hộ.",
    "households.support_saved": "✅ Đã ghi nhận hỗ trợ.",
    "households.registered": "✅ Đã ghi nhận hộ đăng ký thoát nghèo năm {year}. Xã sẽ xem xét công nhận.",
    "households.assessed_same": "Phân loại không đổi: {after}.",
    "households.assessed_change": "Đề xuất chuyển từ {before} sang {after}. Đây mới là đề xuất: cán bộ xã sẽ xem xét công nhận.",
    "households.registrations_title": "Các hộ đăng ký tự nguyện thoát nghèo ({n} hộ):",
    "households.registrations_page": "Đang xem hộ {first}–{last} trong {n} hộ.",
    "households.registrations_more": "… và {n} hộ khác: bấm «Xem tiếp danh sách đăng ký».",
    "households.registrations_village": "{village}:",
    "households.registration_line": "• {code} {name}: năm {year} — {state}",
    "households.no_registrations": "Chưa có hộ nào đăng ký thoát nghèo.",
    "households.review_officers_only": "Chỉ cán bộ xã, tỉnh mới duyệt và công nhận được.",
    "households.review.title": "Có {n} việc chờ duyệt. Chọn một việc:",
    "households.review.title_both": "Có {n} việc chờ duyệt: {kinds}. Chọn một việc:",
    "households.review.title_kind": "Đang xem {what} (trong {n} việc chờ duyệt). Chọn một việc:",
    "households.review.count.reg": "{n} đăng ký thoát nghèo",
    "households.review.count.asm": "{n} đề xuất đổi phân loại hộ",
    "households.review.option.only_reg": "✋ Chỉ xem đăng ký thoát nghèo ({n})",
    "households.review.option.only_asm": "📊 Chỉ xem đề xuất đổi phân loại hộ ({n})",
    "households.review.option.all": "📋 Xem tất cả ({n} việc)",
    "households.review.nothing": "Không có việc nào chờ duyệt trong địa bàn của bạn.",
    "households.review.reg_label": "✋ {code} {name} ({village}) — thoát nghèo {year}",
    "households.review.asm_label": "📊 {code} {name} ({village}) → {after}",
    "households.review.reg": (
        "✋ Hộ {code} — {name} ({village}) đăng ký thoát nghèo năm {year}.\nPhương án: {plan} — {plan_text}\n"
        "Hỗ trợ đề nghị: {asked}\nTrạng thái: {state}"
    ),
    "households.review.asm": (
        "📊 Hộ {code} — {name} ({village}): thu nhập {income}/người/tháng.\n{lacking}\n"
        "Đề xuất chuyển từ {before} sang {after}."
    ),
    "households.review.by": "Người ghi: {name}, {at}.",
    "households.review.by_system": "quản trị hệ thống",
    "households.review.page": "Đang xem việc {first}–{last} trong {n} việc.",
    "households.review.option.more": "➡️ Xem tiếp ({n} việc nữa)",
    "households.review.option.first": "⬅️ Về đầu danh sách",
    "households.review.option.back": "⬅️ Quay lại danh sách",
    "households.review.all_done": "Không còn việc nào chờ duyệt. Bạn cần làm gì tiếp?",
    "households.review.saved.recognised": "Công nhận — hộ {code}",
    "households.review.saved.under_review": "Chuyển sang «đang xem xét» — hộ {code}",
    "households.review.saved.not_yet": "Chưa đạt — hộ {code}",
    "households.review.saved.withdrawn": "Hộ rút đăng ký — hộ {code}",
    "households.review.saved.rejected": "Không công nhận — hộ {code}",
    "households.review.reason": "Lý do (ngắn gọn)? Hoặc bấm «Bỏ qua».",
    "households.review.not_decided": "Đã hủy: chưa ghi quyết định nào cho việc này.",
    "households.review.reason_too_long": "Lý do dài {n} ký tự, quá {max} ký tự. Vui lòng viết ngắn gọn hơn.",
    "households.review.option.recognise": "✅ Công nhận",
    "households.review.option.not_yet": "⏳ Chưa đạt",
    "households.review.option.under_review": "🔍 Đang xem xét",
    "households.review.option.withdrawn": "↩️ Hộ rút đăng ký",
    "households.review.option.reject": "✖️ Không công nhận",
    "households.review.already": "Việc này đã được xử lý trước đó; không thay đổi gì thêm.",
    "households.review.done.recognised": "✅ Đã công nhận. Phân loại của hộ đã được cập nhật.",
    "households.review.done.under_review": "🔍 Đã chuyển sang «đang xem xét».",
    "households.review.done.not_yet": "⏳ Đã ghi «chưa đạt».",
    "households.review.done.withdrawn": "↩️ Đã ghi hộ rút đăng ký.",
    "households.review.done.rejected": "✖️ Đã ghi «không công nhận».",
    "households.error.duplicate_code": "Mã hộ này đã có trong thôn. Vui lòng dùng mã khác.",
    "households.error.code_taken": "Mã hộ {code} đã có trong thôn (hộ {name}). Vui lòng gõ mã khác.",
    "households.error.no_code": "Hộ cần có mã hộ.",
    "households.error.no_name": "Hộ cần có họ tên chủ hộ.",
    "households.error.unknown_status": "Phân loại hộ không hợp lệ.",
    "households.error.open_registration": "Hộ này đang có một đăng ký thoát nghèo chưa xử lý xong.",
    "households.error.already_exited": "Hộ này đã được công nhận thoát nghèo.",
    "households.error.not_poor": "Chỉ hộ nghèo hoặc cận nghèo mới đăng ký thoát nghèo.",
    "households.error.transition": "Không thể chuyển sang trạng thái đó từ trạng thái hiện tại.",
    "households.error.already_decided": "Đề xuất này đã được quyết định trước đó.",
    "households.error.superseded": "Đề xuất này đã được thay bằng một lần đánh giá mới hơn của hộ.",
    # --- what the bot tells about households on its own (handlers/household_notices.py) ---
    "notices.registration.recognised": "🎉 Xã đã công nhận hộ {code} {name} ({village}) thoát nghèo từ ngày {date}.",
    "notices.registration.not_yet": "⏳ Xã ghi hộ {code} {name} ({village}) chưa đạt để công nhận thoát nghèo; hộ vẫn là {before}.",
    "notices.registration.withdrawn": "↩️ Xã đã ghi hộ {code} {name} ({village}) rút đăng ký thoát nghèo; hộ vẫn là {before}.",
    "notices.assessment.recognised": "✅ Xã đã công nhận: hộ {code} {name} ({village}) chuyển từ {before} sang {after} từ ngày {date}.",
    "notices.assessment.rejected": "✖️ Xã không công nhận đề xuất chuyển hộ {code} {name} ({village}) sang {after}; hộ vẫn là {before}.",
    "notices.recently_exited": "Hộ được tính là hộ mới thoát nghèo đến {until}.",
    "notices.reason": "Lý do: {reason}",
    "notices.no_reason": "(không ghi lý do)",
    "notices.decided_by": "Người duyệt: {name}.",
    "notices.option.household": "🏠 Xem hộ",
    "notices.digest": "📋 Có {new} việc mới chờ duyệt ở {area}: {details}. Tổng cộng {total} việc đang chờ.",
    "notices.digest.registrations": "{n} đăng ký thoát nghèo",
    "notices.digest.assessments": "{n} đề xuất phân loại hộ",
    "notices.option.review": "✅ Mở danh sách duyệt",
    "registration.state.registered": "đã đăng ký",
    "registration.state.under_review": "đang xem xét",
    "registration.state.recognised": "đã công nhận thoát nghèo",
    "registration.state.not_yet": "chưa đạt",
    "registration.state.withdrawn": "đã rút",
    # --- the household forms (handlers/forms/households.py) ---
    "form.household.confirm": "Gửi để lưu hộ này vào danh sách hộ của thôn? (Muốn sửa mục nào, gõ: sửa 3)",
    "form.household.confirm_edit": "Gửi để lưu các thay đổi của hộ này? (Muốn sửa mục nào, gõ: sửa 3)",
    "form.assessment.confirm": "Gửi kết quả rà soát thu nhập và thiếu hụt của hộ này? (Muốn sửa mục nào, gõ: sửa 3)",
    "form.support.confirm": "Gửi để ghi nhận khoản hỗ trợ này cho hộ? (Muốn sửa mục nào, gõ: sửa 2)",
    "form.registration.confirm": "Gửi để ghi nhận đăng ký thoát nghèo của hộ? (Muốn sửa mục nào, gõ: sửa 2)",
    "form.household.code.label": "Mã hộ",
    "form.household.code.prompt": "Mã hộ (theo sổ của thôn, ví dụ: NK-015)?",
    "form.household.head_name.label": "Chủ hộ",
    "form.household.head_name.prompt": "Họ tên chủ hộ?",
    "form.household.status.label": "Phân loại hộ",
    "form.household.status.prompt": "Hộ đang được xếp loại nào (theo danh sách xã đã công nhận)?",
    "form.household.ethnic_minority.label": "Dân tộc thiểu số",
    "form.household.ethnic_minority.prompt": "Hộ có phải là hộ đồng bào dân tộc thiểu số không?",
    "form.household.no_work_capacity.label": "Không có khả năng lao động",
    "form.household.no_work_capacity.prompt": "Hộ không có ai có khả năng lao động (đang hưởng bảo trợ xã hội)?",
    "form.household.has_merit.label": "Có người có công",
    "form.household.has_merit.prompt": "Hộ có người có công với cách mạng không?",
    "form.household.has_loan.label": "Vay vốn NHCSXH",
    "form.household.has_loan.prompt": "Hộ có đang vay vốn Ngân hàng Chính sách xã hội không?",
    "form.assessment.income.label": "Thu nhập bình quân",
    "form.assessment.income.prompt": (
        "Thu nhập bình quân mỗi người trong hộ một tháng (đồng)? Ví dụ: 1tr3, 1.300.000, 1300k."
    ),
    "form.assessment.check.income_high": (
        "Thu nhập {income}đ mỗi người một tháng là rất cao so với chuẩn nghèo."
    ),
    "form.assessment.summary_lacking": "{first}–{last}. {lacking}",
    "form.support.kind.label": "Loại hỗ trợ",
    "form.support.kind.prompt": "Hộ đã nhận hỗ trợ gì?",
    "form.support.amount.label": "Giá trị (đồng)",
    "form.support.amount.prompt": "Giá trị hỗ trợ, quy ra đồng? (ví dụ: 5tr; hiện vật thì ước tính)",
    "form.support.source.label": "Nguồn hỗ trợ",
    "form.support.source.prompt": "Ai hoặc chương trình nào hỗ trợ? (ví dụ: Quỹ Vì người nghèo xã) — hoặc bấm «Bỏ qua».",
    "form.support.given_on.label": "Ngày nhận",
    "form.support.given_on.prompt": "Ngày hộ nhận hỗ trợ? (ví dụ: 12/11/2026, hoặc bấm «Hôm nay»)",
    "form.registration.target_year.label": "Năm đăng ký thoát nghèo",
    "form.registration.target_year.prompt": "Hộ đăng ký thoát nghèo trong năm nào? (ví dụ: 2027)",
    "form.registration.plan_kind.label": "Phương án sinh kế",
    "form.registration.plan_kind.prompt": "Hộ định thoát nghèo bằng cách nào?",
    "form.registration.plan_text.label": "Mô tả phương án",
    "form.registration.plan_text.prompt": "Mô tả ngắn phương án (ví dụ: nuôi 2 con bò sinh sản) — hoặc bấm «Bỏ qua».",
    "form.registration.support_asked.label": "Hỗ trợ đề nghị",
    "form.registration.support_asked.prompt": "Hộ cần hỗ trợ gì?",
    "form.registration.registered_on.label": "Ngày đăng ký",
    "form.registration.registered_on.prompt": "Hộ đăng ký ngày nào? (ví dụ: 12/11/2026, hoặc bấm «Hôm nay»)",
    "household.plan.crops": "Trồng trọt",
    "household.plan.livestock": "Chăn nuôi",
    "household.plan.wage_work": "Đi làm thuê, làm công nhân",
    "household.plan.business": "Buôn bán, dịch vụ",
    "household.plan.craft": "Nghề thủ công",
    "household.plan.other": "Khác",
    "household.support.loan": "Vay vốn",
    "household.support.breeds": "Cây, con giống",
    "household.support.training": "Học nghề",
    "household.support.job": "Giới thiệu việc làm",
    "household.support.housing": "Nhà ở",
    "household.support.other": "Khác",
    # --- the monthly village report form ---
    "form.monthly_village.total.label": "Tổng số hộ",
    "form.monthly_village.total.prompt": "Tổng số hộ trong thôn hiện nay?",
    "form.monthly_village.poor.label": "Hộ nghèo",
    "form.monthly_village.poor.prompt": "Số hộ nghèo hiện nay?",
    "form.monthly_village.near_poor.label": "Hộ cận nghèo",
    "form.monthly_village.near_poor.prompt": "Số hộ cận nghèo hiện nay?",
    "form.monthly_village.exited.label": "Thoát nghèo trong tháng",
    "form.monthly_village.exited.prompt": "Số hộ thoát nghèo trong tháng (đã được xã công nhận)?",
    "form.monthly_village.newly_poor.label": "Nghèo phát sinh trong tháng",
    "form.monthly_village.newly_poor.prompt": "Số hộ nghèo phát sinh (mới) trong tháng?",
    "form.monthly_village.fallen_back.label": "Tái nghèo trong tháng",
    "form.monthly_village.fallen_back.prompt": "Số hộ tái nghèo trong tháng (đã thoát rồi lại nghèo)?",
    "form.monthly_village.em_poor.label": "Hộ nghèo dân tộc thiểu số",
    "form.monthly_village.em_poor.prompt": "Trong số hộ nghèo, bao nhiêu hộ là đồng bào dân tộc thiểu số?",
    "form.monthly_village.loans.label": "Hộ nghèo, cận nghèo được vay vốn",
    "form.monthly_village.loans.prompt": (
        "Số hộ nghèo và cận nghèo đang vay vốn Ngân hàng Chính sách xã hội?"
    ),
    "form.monthly_village.support_vnd.label": "Vận động hỗ trợ trong tháng",
    "form.monthly_village.support_vnd.prompt": (
        "Tiền và hiện vật vận động hỗ trợ hộ nghèo trong tháng, quy ra đồng? "
        "(ví dụ: 5tr, 1.500.000, 150k)"
    ),
    "form.monthly_village.note.label": "Ghi chú",
    "form.monthly_village.note.prompt": (
        "Ghi chú thêm (mô hình hay, khó khăn, đề xuất)? Gõ nội dung hoặc bấm «Bỏ qua»."
    ),
    "form.monthly_village.check.poor_near_le_total": (
        "Hộ nghèo ({poor}) cộng hộ cận nghèo ({near_poor}) không thể nhiều hơn tổng số hộ "
        "({total})."
    ),
    "form.monthly_village.check.em_le_poor": (
        "Hộ nghèo dân tộc thiểu số ({em_poor}) không thể nhiều hơn số hộ nghèo ({poor})."
    ),
    "form.monthly_village.check.loans_le_poor_near": (
        "Số hộ được vay vốn ({loans}) không thể nhiều hơn số hộ nghèo và cận nghèo ({sum})."
    ),
    "form.monthly_village.check.new_le_poor": (
        "Số hộ nghèo mới và tái nghèo ({added}) nhiều hơn số hộ nghèo hiện nay ({poor})."
    ),
    "form.monthly_village.check.exited_le_prev": (
        "Số hộ thoát nghèo ({exited}) nhiều hơn số hộ nghèo tháng trước ({prev})."
    ),
    "form.monthly_village.check.balance": (
        "Số hộ nghèo {poor} chưa khớp: tháng trước {prev} − thoát nghèo {exited} + nghèo mới "
        "{newly} + tái nghèo {fallen} = {expected}."
    ),
    "form.monthly_village.differs_from_list": (
        "{label}: bạn gõ {typed}, nhưng danh sách hộ của thôn cho {listed}."
    ),
    "report.from_list_marked": (
        "Số liệu gợi ý lấy từ danh sách hộ của thôn ({n} hộ; {name} xác nhận danh sách đầy đủ "
        "ngày {at})."
    ),
    "report.from_list_matches": (
        "Số liệu gợi ý lấy từ danh sách hộ của thôn ({n} hộ, bằng tổng số hộ đã báo cáo)."
    ),
    "report.list_partial": (
        "Danh sách hộ của thôn mới có {n} trong {total} hộ, nên chưa dùng để gợi ý số liệu. "
        "Khi đã nhập đủ, vào /ho → «Danh sách hộ đã đủ chưa?» để xác nhận."
    ),
    "report.list_unconfirmed": (
        "Danh sách hộ của thôn có {n} hộ, chưa được xác nhận là đầy đủ, nên chưa dùng để gợi ý "
        "số liệu (trừ khi tổng số hộ bạn gõ đúng bằng {n}). Xác nhận ở /ho → «Danh sách hộ đã đủ chưa?»."
    ),
    "report.list_now_used": (
        "Tổng số hộ bằng số hộ trong danh sách của thôn ({n}): các số gợi ý tiếp theo lấy từ "
        "danh sách."
    ),
    "report.list_not_used": (
        "Tổng số hộ {total} khác số hộ trong danh sách của thôn ({n}): các số gợi ý tiếp theo "
        "lấy theo báo cáo trước, không theo danh sách."
    ),
    "report.more_areas": "… và {n} thôn khác: gõ tên thôn để tìm.",
    "report.more_areas_at_least": "… và hơn {n} thôn khác: gõ tên thôn đầy đủ hơn để tìm.",
    "form.monthly_village.check.change_total": (
        "Tổng số hộ đổi từ {before} thành {now} ({percent}%) so với tháng trước."
    ),
    "form.monthly_village.check.change_poor": (
        "Số hộ nghèo đổi từ {before} thành {now} ({percent}%) so với tháng trước."
    ),
    "form.monthly_village.check.change_near_poor": (
        "Số hộ cận nghèo đổi từ {before} thành {now} ({percent}%) so với tháng trước."
    ),
    "form.monthly_village.check.change_em_poor": (
        "Số hộ nghèo dân tộc thiểu số đổi từ {before} thành {now} ({percent}%) so với tháng trước."
    ),
    "form.monthly_village.check.change_loans": (
        "Số hộ được vay vốn đổi từ {before} thành {now} ({percent}%) so với tháng trước."
    ),
    # --- the console channel (bot/channels/console.py) ---
    "console.banner": (
        "=== Trợ lý báo cáo giảm nghèo «Vì người nghèo – Không để ai bị bỏ lại phía sau» — "
        "trò chuyện trên máy tính ==="
    ),
    "console.demo_banner": (
        "⚠️ DEMO: đây là dữ liệu mẫu để dùng thử (Tỉnh Lai Châu (DEMO)), không phải số liệu "
        "thật. Tên thôn, tên người và số liệu đều là giả định."
    ),
    "console.demo_invite": (
        "Muốn thử đăng ký? Chọn «Người lạ» rồi gõ mã mời {code} (trưởng thôn {area})."
    ),
    "console.help": (
        "Gõ tin nhắn như trên điện thoại, ví dụ: /baocao, /huy, /toi. Chọn một mục bằng cách "
        "gõ số thứ tự hoặc gõ chữ trong [ ] (có dấu hay không dấu đều được). Gõ /as để đổi "
        "người, /quit (hoặc Ctrl-D) để thoát."
    ),
    "console.choose_persona": "Bạn muốn dùng thử với vai trò nào? Gõ số thứ tự:",
    "console.persona_line": "{n}. {name} — {roles}",
    "console.persona_line_stranger": "{n}. Người lạ (chưa đăng ký)",
    "console.choose_persona_again": "Vui lòng gõ một số từ 1 đến {n}, hoặc /quit để thoát.",
    "console.stranger_name": "Người lạ",
    "console.acting_as": "Bạn đang là: {name} ({roles}); danh tính console: {sender}.",
    "console.acting_as_stranger": (
        "Bạn đang là người lạ, chưa đăng ký (danh tính console: {sender})."
    ),
    "console.as_usage": (
        "Gõ /as rồi tên vai trò, mã số người hoặc danh tính console, ví dụ: /as truong-thon, "
        "/as can-bo-xa, /as can-bo-tinh, /as admin, /as khach."
    ),
    "console.as_required": (
        "Chưa biết bạn là ai. Vui lòng chạy lại với --as (mã số người, danh tính console hoặc "
        "vai trò: truong-thon, can-bo-xa, can-bo-tinh, admin, khach)."
    ),
    "console.no_one_in_role": (
        "Không có ai giữ vai trò «{who}» trong cơ sở dữ liệu. Vui lòng chọn vai trò khác."
    ),
    "console.no_such_person": (
        "Không tìm thấy người «{who}». Vui lòng gõ mã số người, danh tính console hoặc vai "
        "trò: truong-thon, can-bo-xa, can-bo-tinh, admin, khach."
    ),
    "console.other_chat": "(Tin gửi tới cuộc trò chuyện {chat}:)",
    "console.image_saved": "🖼 Ảnh đã lưu tại: {path}",
    "console.image_not_saved": "🖼 (Có một ảnh, không lưu được trên máy này.)",
    "console.document_saved": "📎 Tệp đã lưu tại: {path}",
    "console.document_not_saved": "📎 (Có một tệp, không lưu được trên máy này.)",
    "console.bye": "Tạm biệt!",
    # --- 6-month and yearly movement reports (handlers/movement.py) ---
    "help.movement": (
        "• /baocao6thang — báo cáo 6 tháng đầu năm của phong trào «Vì người nghèo»: hoạt động "
        "đã tổ chức, tiền vận động (cộng sẵn từ các báo cáo tháng), mô hình hay, khó khăn, đề "
        "xuất.\n"
        "• /baocaonam — báo cáo năm, có thêm đề nghị khen thưởng hộ gia đình, cá nhân.\n"
        "• Năm khác, thôn hoặc xã khác trong địa bàn: /baocaonam 2025, /baocao6thang Tên xã"
    ),
    "movement.report.half_year": "6 tháng đầu năm {year}",
    "movement.report.yearly": "năm {year}",
    "movement.title": "Báo cáo {report} — {area}",
    "movement.intro": (
        "📋 Báo cáo {report} — {area} (phong trào «Vì người nghèo – Không để ai bị bỏ lại "
        "phía sau»)."
    ),
    "movement.replaces": (
        "Kỳ này đã có báo cáo (phiên bản {version}, do {name} gửi ngày {at}). Báo cáo mới sẽ "
        "là phiên bản tiếp theo; bản cũ vẫn được lưu."
    ),
    "movement.support_now": (
        "Theo các báo cáo tháng hiện có, tổng tiền vận động trong kỳ là {total}."
    ),
    "movement.hint.filed": "Bản đã gửi: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "movement.hint.monthly_sum": (
        "Tổng tiền vận động theo các báo cáo tháng của thôn: {value}. Bấm «Giữ nguyên» nếu đúng."
    ),
    "movement.hint.monthly_sum_villages": (
        "Tổng tiền vận động theo các báo cáo tháng của các thôn: {value}. Bấm «Giữ nguyên» nếu "
        "đúng."
    ),
    "movement.year_not_open": (
        "Chưa đến kỳ báo cáo {report}: nhận từ ngày {opens}. Hiện chỉ nhận báo cáo cho năm: "
        "{years}."
    ),
    "movement.year_not_accepted": (
        "Không nhận báo cáo {report}. Hiện chỉ nhận báo cáo cho năm: {years}."
    ),
    "movement.pick_area": "Báo cáo cho thôn hoặc xã nào? Chọn bên dưới hoặc gõ tên.",
    "movement.type_area": (
        "Báo cáo cho thôn hoặc xã nào? Vui lòng gõ tên (có dấu hay không dấu đều được)."
    ),
    "movement.area_not_found": (
        "Không tìm thấy thôn, xã «{query}» trong địa bàn của bạn. Vui lòng gõ lại tên."
    ),
    "movement.only_own_village": "Bạn chỉ được báo cáo cho thôn của mình: {village}.",
    "movement.no_area": (
        "Bạn chưa được giao thôn hoặc xã nào để báo cáo. Vui lòng liên hệ cán bộ xã."
    ),
    "movement.not_allowed": "Bạn không còn quyền báo cáo cho địa bàn này. Báo cáo chưa được lưu.",
    "movement.saved": (
        "✅ Đã lưu báo cáo {report} của {area} (phiên bản {version}). Cảm ơn bạn!"
    ),
    "movement.choose_option": (
        "Vui lòng chọn một việc trong danh sách bên dưới (gõ số thứ tự cũng được)."
    ),
    "movement.kind.household": "Hộ gia đình",
    "movement.kind.person": "Cá nhân",
    "movement.option.back": "↩️ Quay lại",
    "movement.option.nominations": "🏅 Đề nghị khen thưởng",
    "movement.option.add_household": "➕ Hộ gia đình",
    "movement.option.add_person": "➕ Cá nhân",
    "movement.option.remove": "🗑 Bỏ một đề nghị",
    "movement.option.as_typed": "✍️ Ghi theo tên đã gõ: {name}",
    "movement.nominations_intro": (
        "Đề nghị khen thưởng hộ gia đình, cá nhân tiêu biểu trong phong trào (tối đa {max}). "
        "Chọn «➕ Hộ gia đình» hoặc «➕ Cá nhân» để thêm; xong thì chọn «Xong»."
    ),
    "movement.nominations_title": "🏅 Đề nghị khen thưởng ({n}):",
    "movement.nominations_none": "🏅 Đề nghị khen thưởng: chưa có.",
    "movement.nominations_full": "Đã đủ {max} đề nghị, không thêm được nữa.",
    "movement.nomination_line": "{kind}: {name} — {reason}",
    "movement.nomination_added": "✅ Đã thêm: {entry}",
    "movement.nomination_removed": "🗑 Đã bỏ: {entry}",
    "movement.ask_name.household": (
        "Hộ được đề nghị khen thưởng: gõ mã hộ hoặc họ tên chủ hộ (có dấu hay không dấu đều "
        "được)."
    ),
    "movement.ask_name.person": (
        "Họ tên người được đề nghị khen thưởng? (có thể thêm chức vụ hoặc nơi ở, ví dụ: Lò Văn "
        "Sáng, trưởng ban công tác mặt trận)"
    ),
    "movement.pick_household": (
        "Có nhiều hộ khớp trong danh sách hộ. Chọn một hộ, hoặc gõ lại mã hộ, tên chủ hộ:"
    ),
    "movement.household_not_listed": (
        "Không thấy hộ «{name}» trong danh sách hộ của thôn; đề nghị sẽ ghi theo tên bạn gõ."
    ),
    "movement.name_empty": "Bạn chưa gõ tên. Vui lòng gõ tên, hoặc chọn «Quay lại».",
    "movement.name_too_long": "Tên dài quá {max} ký tự. Vui lòng gõ ngắn gọn hơn.",
    "movement.ask_reason": (
        "Lý do đề nghị khen thưởng {name}? (ví dụ: tự nguyện đăng ký và đã thoát nghèo; ủng hộ "
        "nhiều cho Quỹ Vì người nghèo)"
    ),
    "movement.reason_empty": "Bạn chưa gõ lý do. Vui lòng gõ lý do đề nghị khen thưởng.",
    "movement.reason_too_long": "Lý do dài quá {max} ký tự. Vui lòng viết ngắn gọn hơn.",
    "movement.ask_remove": "Bỏ đề nghị nào? Chọn hoặc gõ số thứ tự.",
    "movement.remove_expected": "Vui lòng gõ số thứ tự của đề nghị cần bỏ, từ 1 đến {n}.",
    "movement.pick_expected": (
        "Vui lòng gõ số thứ tự từ 1 đến {n}, hoặc gõ lại mã hộ, tên chủ hộ."
    ),
    # the form engine, any form: a field being fixed from the summary keeps its value in one tap
    "form.fix_hint": "Đang ghi: {value}. Bấm «Giữ nguyên» nếu không đổi.",
    "form.half_year.activities.label": "Hoạt động đã tổ chức",
    "form.half_year.activities.prompt": (
        "Trong 6 tháng đầu năm đã tổ chức những hoạt động gì cho phong trào «Vì người nghèo»? "
        "(ví dụ: họp thôn vận động 5 hộ đăng ký thoát nghèo, tập huấn chăn nuôi bò)"
    ),
    "form.half_year.support_vnd.label": "Tiền vận động hỗ trợ",
    "form.half_year.support_vnd.prompt": (
        "Tổng tiền và hiện vật vận động hỗ trợ hộ nghèo trong 6 tháng đầu năm, quy ra đồng? "
        "(ví dụ: 25tr, 1.500.000)"
    ),
    "form.half_year.models.label": "Mô hình hay, cách làm tốt",
    "form.half_year.models.prompt": (
        "Mô hình hay, cách làm tốt trong 6 tháng? Gõ nội dung hoặc bấm «Bỏ qua»."
    ),
    "form.half_year.difficulties.label": "Khó khăn, vướng mắc",
    "form.half_year.difficulties.prompt": "Khó khăn, vướng mắc? Gõ nội dung hoặc bấm «Bỏ qua».",
    "form.half_year.proposals.label": "Đề xuất, kiến nghị",
    "form.half_year.proposals.prompt": (
        "Đề xuất, kiến nghị với cấp trên? Gõ nội dung hoặc bấm «Bỏ qua»."
    ),
    "form.yearly.activities.label": "Hoạt động đã tổ chức",
    "form.yearly.activities.prompt": (
        "Trong năm đã tổ chức những hoạt động gì cho phong trào «Vì người nghèo»? (ví dụ: "
        "hưởng ứng Tháng cao điểm, vận động 8 hộ đăng ký thoát nghèo, làm 2 nhà đại đoàn kết)"
    ),
    "form.yearly.support_vnd.label": "Tiền vận động hỗ trợ",
    "form.yearly.support_vnd.prompt": (
        "Tổng tiền và hiện vật vận động hỗ trợ hộ nghèo trong năm, quy ra đồng? (ví dụ: 60tr, "
        "1.500.000)"
    ),
    "form.yearly.models.label": "Mô hình hay, cách làm tốt",
    "form.yearly.models.prompt": "Mô hình hay, cách làm tốt trong năm? Gõ nội dung hoặc bấm «Bỏ qua».",
    "form.yearly.difficulties.label": "Khó khăn, vướng mắc",
    "form.yearly.difficulties.prompt": "Khó khăn, vướng mắc? Gõ nội dung hoặc bấm «Bỏ qua».",
    "form.yearly.proposals.label": "Đề xuất, kiến nghị",
    "form.yearly.proposals.prompt": (
        "Đề xuất, kiến nghị với cấp trên? Gõ nội dung hoặc bấm «Bỏ qua»."
    ),
    # --- the reporting calendar, reminders, announcements (handlers/calendar.py, scheduler/) ---
    "calendar.period.monthly": "tháng {period}",
    "calendar.period.half_year": "6 tháng đầu năm {year}",
    "calendar.period.yearly": "năm {year}",
    "calendar.report.monthly_village": "Báo cáo {period}",
    "calendar.report.half_year": "Báo cáo sơ kết {period}",
    "calendar.report.yearly": "Báo cáo tổng kết {period}",
    "calendar.due.before": "hạn {due}, còn {days} ngày",
    "calendar.due.today": "hôm nay ({due}) là hạn cuối",
    "calendar.due.late": "hạn {due}, đã quá hạn {days} ngày",
    "calendar.and_more": "… và {n} {unit} khác",
    "calendar.unit.village": "thôn",
    "calendar.unit.commune": "xã",
    "calendar.option.start": "📝 Báo cáo ngay",
    "calendar.option.remind_again": "🔁 Nhắc lại {n} {unit} chưa gửi",
    "calendar.option.remind_again_in": "🔁 Nhắc lại {n} {unit} chưa gửi — {detail}",
    "calendar.option.full_list": "📋 Xem đủ {n} {unit} chưa gửi",
    "calendar.option.full_list_in": "📋 Xem đủ {n} {unit} chưa gửi — {detail}",
    "calendar.remind.village": (
        "⏰ Nhắc việc: {report} của {areas} chưa được gửi ({due}).\n"
        "Bấm «Báo cáo ngay» hoặc gõ lệnh báo cáo để gửi. Cảm ơn bạn!"
    ),
    "calendar.remind.commune": (
        "⏰ Nhắc việc: {report} của {areas} (cấp xã) chưa được gửi ({due}).\n"
        "Bấm «Báo cáo ngay» để tổng hợp và gửi."
    ),
    "calendar.remind_again.village": (
        "⏰ {name} nhắc: {report} của {areas} chưa được gửi ({due}).\n"
        "Bấm «Báo cáo ngay» hoặc gõ lệnh báo cáo để gửi. Cảm ơn bạn!"
    ),
    "calendar.remind_again.commune": (
        "⏰ {name} nhắc: {report} của {areas} (cấp xã) chưa được gửi ({due}).\n"
        "Bấm «Báo cáo ngay» để tổng hợp và gửi."
    ),
    "calendar.escalate.village": (
        "📋 {report} (hạn {due}) — {area}: còn {late}/{total} thôn chưa gửi:\n{names}"
    ),
    "calendar.escalate.commune": (
        "📋 {report} của các xã (hạn {due}) — {area}: còn {late}/{total} xã chưa gửi:\n{names}"
    ),
    "calendar.escalate.none": "✅ {report} (hạn {due}) — {area}: đủ {total}/{total}, không nơi nào chậm.",
    "calendar.with_head": "{area} (trưởng thôn: {heads})",
    "calendar.no_head": "{area} (chưa có trưởng thôn dùng bot)",
    "calendar.with_officer": "{area} (cán bộ: {heads})",
    "calendar.no_officer": "{area} (chưa có cán bộ xã dùng bot)",
    "calendar.digest": (
        "📊 Tiến độ {report} (hạn {due}) — {area}: {filed}/{total} thôn đã gửi.\n{lines}"
    ),
    "calendar.digest.line": "• {area}: {filed}/{total} {mark}",
    "calendar.notice.peak_month": (
        "📣 Từ {start} đến {end} là Tháng cao điểm «Vì người nghèo». Mời thôn, xã tổ chức vận "
        "động ủng hộ Quỹ Vì người nghèo và ghi số tiền vận động được vào báo cáo tháng."
    ),
    "calendar.notice.annual_review": (
        "📣 Từ {start} đến {end} là đợt rà soát hộ nghèo, hộ cận nghèo hằng năm. Mời trưởng "
        "thôn rà soát danh sách hộ và cập nhật qua lệnh /ho."
    ),
    # --- /lich (handlers/calendar.py) ---
    "lich.title": "📅 Lịch báo cáo — {area}",
    "lich.reminder.before": "{n} ngày trước hạn",
    "lich.reminder.on_due": "đúng ngày hạn",
    "lich.reminder.after": "{n} ngày sau hạn",
    "lich.calendar": (
        "• Báo cáo tháng: hạn ngày {due_day} tháng sau; nhắc {offsets}; khóa sổ ngày "
        "{lock_day}.\n"
        "• Báo cáo sơ kết 6 tháng: thôn hạn {h1_due}, xã hạn {h1_commune}.\n"
        "• Báo cáo tổng kết năm: thôn hạn {year_due}; xã (kèm hồ sơ đề nghị khen thưởng) hạn "
        "{year_commune}.\n"
        "• Tháng cao điểm «Vì người nghèo»: {peak_start} – {peak_end}.\n"
        "• Rà soát hộ nghèo, hộ cận nghèo hằng năm: {review_start} – {review_end}."
    ),
    "lich.mine": "Báo cáo của bạn đang đến hạn:",
    "lich.filed": "✅ {report} — {area}: đã gửi.",
    "lich.pending": "⏳ {report} — {area}: chưa gửi ({due}).",
    "lich.nothing_due": "Hiện không có báo cáo nào đến hạn. Bot sẽ nhắc khi gần đến hạn.",
    "lich.progress": "📊 {report} (hạn {due}) — {area}: {filed}/{total} {unit} đã gửi.",
    "lich.report_of.village": "{report} của các thôn",
    "lich.report_of.commune": "{report} của các xã",
    "lich.missing": "Chưa gửi:",
    "lich.full_list": (
        "📋 {report} (hạn {due}) — {area}: {late}/{total} {unit} chưa gửi:\n{names}"
    ),
    # --- /nhaclai, «Nhắc lại» (handlers/calendar.py) ---
    "remind_again.officers_only": "Chỉ cán bộ xã, cán bộ tỉnh hoặc quản trị viên mới nhắc lại được các thôn chưa gửi báo cáo.",
    "remind_again.none_late": "✅ Các báo cáo đang đến hạn trong địa bàn của bạn đã được gửi đủ. Không cần nhắc ai.",
    "remind_again.pick": "Nhắc lại báo cáo nào? Chọn bên dưới (gõ số):",
    "remind_again.not_found": "Không tìm thấy báo cáo này trong địa bàn của bạn. Gõ /lich để xem các báo cáo đang đến hạn.",
    "remind_again.closed": "{report} đã khóa sổ, không nhắc lại được nữa. Gõ /lich để xem các báo cáo đang đến hạn.",
    "remind_again.nothing_late": "✅ {report} — {area}: tất cả đã gửi. Không cần nhắc ai.",
    "remind_again.planned": "✅ Đang nhắc lại {report} tới {n} người ({areas}). Bot sẽ báo lại khi gửi xong.",
    "remind_again.planned_later": (
        "✅ Bây giờ là giờ nghỉ: lời nhắc {report} tới {n} người ({areas}) sẽ được gửi lúc "
        "{at}. Bot sẽ báo lại khi gửi xong."
    ),
    "remind_again.nobody_new": "Chưa gửi thêm lời nhắc {report}: những người còn thiếu vừa được nhắc.",
    "remind_again.recent": "Đã được nhắc trong {minutes} phút qua, không nhắc lại lần nữa:\n{names}",
    "remind_again.recent_line": "{name}: lúc {at} ({by})",
    "remind_again.by_calendar": "bot nhắc theo lịch",
    "remind_again.by_person": "{name} nhắc",
    "remind_again.unheaded": "Chưa có trưởng thôn dùng bot, vui lòng liên hệ trực tiếp:\n{names}",
    # --- /thongbao (handlers/announce.py) ---
    "announce.officers_only": "Chỉ cán bộ xã, cán bộ tỉnh hoặc quản trị viên mới gửi được thông báo.",
    "announce.area_not_found": "Không tìm thấy địa bàn «{query}» trong phạm vi của bạn. Vui lòng gõ lại tên xã hoặc thôn.",
    "announce.pick_area": "Gửi thông báo tới địa bàn nào? Chọn bên dưới (gõ số) hoặc gõ tên.",
    "announce.pick_expected": "Vui lòng chọn một địa bàn trong danh sách (gõ số thứ tự) hoặc gõ đúng tên.",
    "announce.ask_text": "Nội dung thông báo gửi tới mọi người ở {area}? (tối đa {max} ký tự)",
    "announce.text_empty": "Thông báo chưa có nội dung. Vui lòng gõ nội dung cần gửi.",
    "announce.text_too_long": "Thông báo dài {n} ký tự, quá giới hạn {max}. Vui lòng rút gọn rồi gửi lại.",
    "announce.preview": "Xem trước thông báo:\n\n{text}\n\nSẽ gửi tới {n} người ở {area}. Gửi ngay?",
    "announce.quiet_hours": "Lưu ý: bây giờ là giờ nghỉ, thông báo sẽ được gửi từ {start} sáng mai.",
    "announce.option.send": "📣 Gửi",
    "announce.option.edit": "✏️ Sửa nội dung",
    "announce.confirm_expected": "Vui lòng bấm «Gửi», «Sửa nội dung» hoặc «Hủy».",
    "announce.not_sent": "Thông báo chưa được gửi. Gõ «gửi» khi muốn gửi, «sửa» để sửa nội dung, hoặc «hủy» để bỏ.",
    "announce.not_allowed": "Bạn không còn quyền gửi thông báo tới địa bàn này. Thông báo chưa được gửi.",
    "announce.planned": "✅ Đang gửi thông báo tới {n} người ở {area}. Bot sẽ báo lại khi gửi xong.",
    "announce.planned_later": "✅ Đã xếp lịch: thông báo tới {n} người ở {area} sẽ được gửi lúc {at}. Bot sẽ báo lại khi gửi xong.",
    "announce.nobody": "Ở {area} chưa có ai khác dùng bot để nhận thông báo. Thông báo chưa được gửi.",
    "announce.message": "📣 Thông báo từ {name} ({area}):\n{text}",
    # --- the outbox (scheduler/dispatcher.py) ---
    "zalo.no_media": (
        "(Biểu đồ và tệp chưa gửi được qua Zalo vì máy chủ của bot chưa có địa chỉ công khai. "
        "Vui lòng báo quản trị viên, hoặc xem trên Telegram.)"
    ),
    "zalo.document_link": "📎 Tải tệp {name}: {url}\n(Liên kết dùng được trong {minutes} phút.)",
    "zalo.document_link_personal": (
        "📎 Tải tệp {name}: {url}\n(Tệp có thông tin cá nhân của các hộ: chỉ tải được một lần, "
        "trong vòng {minutes} phút. Xin đừng chuyển tiếp liên kết; cần tải lại thì chọn lại "
        "trong /thongke.)"
    ),
    "zalo.media_page.title": "Tải tệp {name}",
    "zalo.media_page.text": (
        "Tệp này có thông tin cá nhân của các hộ gia đình. Chỉ tải về máy của bạn, không chuyển "
        "tiếp cho người khác. Sau khi tải, liên kết hết hiệu lực sau {grace} phút; cần tải lại thì "
        "chọn lại trong /thongke."
    ),
    "zalo.media_page.download": "📥 Tải tệp {name}",
    "zalo.quota_exceeded": (
        "⚠️ Zalo đang từ chối tin nhắn của bot vì đã dùng hết hạn mức của gói dịch vụ "
        "(lỗi 429 «Quota exceeded»). Tin nhắn trên Zalo tạm dừng và bot sẽ tự thử gửi lại, "
        "thưa dần đến {minutes} phút một lần. Vui lòng kiểm tra gói dịch vụ và hạn mức của bot "
        "tại bot.zapps.me (Zalo Bot Creator)."
    ),
    "outbox.unreachable.title": "⚠️ Bot không gửi được tin nhắn tới {n} người trong địa bàn của bạn:",
    "outbox.unreachable.line": "• {name} ({areas}): {why}.",
    "outbox.unreachable.advice": (
        "Vui lòng liên hệ trực tiếp; nhờ họ bỏ chặn bot (nếu đã chặn) rồi gửi cho bot một tin "
        "bất kỳ (ví dụ «menu») trên Zalo hoặc Telegram, để bot lại gửi được cho họ."
    ),
    "outbox.why.blocked": "đã chặn bot trên {channel}",
    "outbox.why.chat_not_found": (
        "{channel} không tìm thấy cuộc trò chuyện của người này với bot (tài khoản đã xóa, "
        "hoặc chưa từng nhắn cho bot này)"
    ),
    "outbox.why.window": "{channel} không cho bot nhắn vì người này lâu rồi chưa nhắn cho bot",
    "outbox.why.gone": "không còn tài khoản Zalo hay Telegram nào để bot nhắn tới",
    "outbox.progress": "📣 Thông báo «{title}» tới {area}: đã gửi {sent}/{total} người, đang gửi tiếp…",
    "outbox.done": "✅ Đã gửi xong thông báo «{title}» tới {area}: {sent}/{total} người nhận được.",
    "outbox.reminded_done": "✅ Đã nhắc lại {title} — {area}: {sent}/{total} người nhận được lời nhắc.",
    "outbox.done_missed": "⚠️ {n} người không nhận được (đã chặn bot hoặc lỗi gửi): {names}",
    "console.outbox": "🔔 Bot tự gửi tới [{to}]:",
    # --- spreadsheets (reports/sheets.py) ---
    "sheet.area": "Địa bàn: {area}",
    "sheet.period": "Kỳ báo cáo: {period}",
    "sheet.as_of": "Số liệu tính đến {date}",
    "sheet.total": "Tổng cộng",
    "sheet.yes": "x",
    "sheet.style": "{column} — {look}",
    "sheet.style.row": "dòng",
    "sheet.style.total": "dòng tổng",
    "sheet.style.carried": "số liệu tháng trước",
    "sheet.style.missing": "chưa gửi",
    "sheet.personal_data": "Tài liệu có thông tin cá nhân của hộ gia đình: chỉ dùng cho công tác giảm nghèo, không chia sẻ ra ngoài.",
    "sheet.footer.report": "{title} – {area}",
    "sheet.footer.page": "Trang &P/&N",
    "sheet.col.no": "STT",
    "sheet.col.commune": "Xã",
    "sheet.col.village": "Thôn",
    "sheet.col.code": "Mã hộ",
    "sheet.col.head_name": "Chủ hộ",
    "sheet.col.total": "Tổng số hộ",
    "sheet.col.poor": "Hộ nghèo",
    "sheet.col.poor_rate": "Tỷ lệ nghèo (%)",
    "sheet.col.near_poor": "Hộ cận nghèo",
    "sheet.col.near_poor_rate": "Tỷ lệ cận nghèo (%)",
    "sheet.col.support": "Vận động (đồng)",
    "sheet.monthly.title": "Số liệu giảm nghèo hằng tháng",
    "sheet.monthly.period_month": "Kỳ báo cáo: {month} — thuộc {period}",
    "sheet.monthly.filed": "Đã gửi báo cáo: {filed}/{villages} thôn, trong đó {on_time} thôn gửi đúng hạn.",
    "sheet.monthly.filed_count": "{filed}/{villages} thôn đã gửi",
    "sheet.monthly.subtotal": "Cộng {commune}",
    "sheet.monthly.not_filed": "Chưa gửi",
    "sheet.monthly.carried": "Chưa gửi — dùng số liệu tháng {month}",
    "sheet.monthly.carried_note": "{n} thôn chưa gửi được tính bằng số liệu tháng gần nhất của thôn (chữ nghiêng, ghi ở cột «Ngày gửi»), như trong thống kê.",
    "sheet.monthly.late": "Trễ hạn",
    "sheet.monthly.col.exited": "Thoát nghèo",
    "sheet.monthly.col.newly_poor": "Nghèo phát sinh",
    "sheet.monthly.col.fallen_back": "Tái nghèo",
    "sheet.monthly.col.em_poor": "Hộ nghèo DTTS",
    "sheet.monthly.col.loans": "Được vay vốn",
    "sheet.monthly.col.note": "Ghi chú",
    "sheet.monthly.col.filed_at": "Ngày gửi",
    "sheet.monthly.col.filed_by": "Người gửi",
    "sheet.monthly.col.on_time": "Đúng hạn",
    "sheet.summary.title": "Tổng hợp kết quả giảm nghèo",
    "sheet.summary.sheet": "Tổng hợp",
    "sheet.summary.note": "Thay đổi từ đầu năm tính bằng điểm phần trăm (tỷ lệ nghèo hiện nay trừ tỷ lệ nghèo đầu năm); thay đổi so với gốc so số hộ nghèo và cận nghèo với {baseline}. Số âm là giảm.",
    "sheet.summary.col.area": "Địa bàn",
    "sheet.summary.col.start_poor_rate": "Tỷ lệ nghèo đầu năm (%)",
    "sheet.summary.col.change_since_start": "Thay đổi từ đầu năm (điểm %)",
    "sheet.summary.col.baseline": "Hộ nghèo + cận nghèo gốc ({baseline})",
    "sheet.summary.col.change_since_baseline": "Thay đổi so với gốc (%)",
    "sheet.summary.col.villages": "Số thôn",
    "sheet.summary.col.reports_filed": "Báo cáo đã gửi",
    "sheet.summary.col.reports_on_time": "Đúng hạn",
    "sheet.summary.col.registered": "Đăng ký thoát nghèo",
    "sheet.summary.col.recognised": "Đã công nhận",
    "sheet.summary.col.note": "Ghi chú",
    "sheet.summary.uncounted": "{n} thôn chưa có số liệu, không được tính",
    "sheet.summary.none_counted": "chưa có số liệu",
    "sheet.households.title": "Danh sách hộ gia đình",
    "sheet.households.sheet": "Danh sách hộ",
    "sheet.households.count": "{count} hộ",
    "sheet.households.col.status": "Phân loại",
    "sheet.households.col.status_since": "Từ ngày",
    "sheet.households.col.ethnic_minority": "Dân tộc thiểu số",
    "sheet.households.col.no_work_capacity": "Không có khả năng lao động",
    "sheet.households.col.has_merit": "Có người có công",
    "sheet.households.col.has_loan": "Vay vốn NHCSXH",
    "sheet.registrations.title": "Danh sách hộ đăng ký thoát nghèo",
    "sheet.registrations.sheet": "Đăng ký thoát nghèo",
    "sheet.registrations.count": "{count} hộ đăng ký",
    "sheet.registrations.col.target_year": "Năm đăng ký thoát nghèo",
    "sheet.registrations.col.plan": "Phương án sinh kế",
    "sheet.registrations.col.support_asked": "Hỗ trợ đề nghị",
    "sheet.registrations.col.registered_on": "Ngày đăng ký",
    "sheet.registrations.col.state": "Trạng thái",
    "sheet.registrations.col.state_on": "Ngày cập nhật",
    "sheet.file.monthly": "Số liệu tháng",
    "sheet.file.summary": "Tổng hợp",
    "sheet.file.households": "Danh sách hộ",
    "sheet.file.registrations": "Đăng ký thoát nghèo",
    # --- /thongke (handlers/stats.py, reports/stats.py) ---
    "stats.officers_only": "Thống kê chỉ dành cho cán bộ xã, cán bộ tỉnh và quản trị viên. Trưởng thôn có thể xem lịch báo cáo bằng lệnh /lich.",
    "stats.area_not_found": "Không tìm thấy địa bàn «{query}» trong phạm vi của bạn. Vui lòng gõ lại tên xã hoặc thôn.",
    "stats.period_expected": (
        "Không hiểu kỳ thống kê. Có thể gõ: tháng (10/2026, t10), quý (quy 3/2026, q3 2026), "
        "6 tháng (6 thang dau nam 2026, h2/2026) hoặc năm (nam 2026, 2026). Ví dụ: /thongke Tân Lập quy 3/2026"
    ),
    "stats.pick_area": "Xem thống kê của địa bàn nào? Chọn bên dưới (gõ số) hoặc gõ tên.",
    "areas.pick_page": "Có {n} địa bàn khớp «{query}»; đây là {first}–{last}. Gõ thêm tên để thu hẹp, hoặc bấm «Xem thêm».",
    "areas.pick_page_more": "Có hơn {n} địa bàn khớp «{query}»; đây là {first}–{last}. Vui lòng gõ thêm tên (ví dụ kèm tên xã) để thu hẹp.",
    "areas.pick_page_scopes": "Bạn phụ trách {n} địa bàn; đây là {first}–{last}. Gõ tên để tìm, hoặc bấm «Xem thêm».",
    "areas.option.more": "➡️ Xem thêm (còn {n})",
    "stats.pick_expected": "Vui lòng chọn một địa bàn trong danh sách (gõ số thứ tự) hoặc gõ đúng tên.",
    "stats.menu": "📊 {area} — {period}. Chọn biểu đồ hoặc bảng tính (gõ số), hoặc gõ địa bàn, kỳ khác (ví dụ: quy 3/2026):",
    "stats.menu_expected": "Vui lòng chọn một mục trong danh sách (gõ số), hoặc gõ tên địa bàn hay kỳ khác.",
    "stats.closed": "Đã đóng thống kê.",
    "stats.not_allowed": "Bạn không còn quyền xem thống kê của địa bàn này.",
    "stats.no_data": "Chưa có số liệu của {area} cho {period}.",
    "stats.no_chart_data": "Chưa đủ số liệu để vẽ biểu đồ này cho {area} ({period}).",
    "stats.no_chart.baseline": "Chưa có số liệu gốc ({label}) của {area}, nên chưa so sánh được với gốc.",
    "stats.no_chart.funnel": "{area} chưa có hộ nào đăng ký thoát nghèo trong năm {year}.",
    "stats.no_chart.reduction": "Chưa có số liệu cuối năm {before} của các nơi thuộc {area}, nên chưa tính được mức giảm năm {year}.",
    "stats.no_sheet.households": "{area} chưa có danh sách hộ trong hệ thống (thêm hộ bằng /ho, hoặc quản trị viên nhập danh sách bằng lệnh import-households).",
    "stats.no_sheet.registrations": "{area} chưa có hộ nào đăng ký thoát nghèo. Đăng ký cho hộ bằng /dangky.",
    "stats.no_sheet_data": "Chưa có số liệu để lập bảng tính này cho {area} ({period}).",
    "stats.sheet_caption": "{name} — {area}.",
    "stats.option.trend": "📈 Tỷ lệ nghèo theo tháng",
    "stats.option.reduction": "📉 Giảm nghèo năm nay",
    "stats.option.baseline": "🎯 So với gốc (−50 %)",
    "stats.option.completeness": "📋 Tiến độ báo cáo",
    "stats.option.funnel": "🔻 Đăng ký thoát nghèo",
    "stats.option.ranking": "🏆 Xếp hạng thi đua",
    "stats.option.awards": "🏅 Đề xuất khen thưởng",
    "stats.option.sheet_monthly": "📥 Excel số liệu tháng",
    "stats.option.sheet_summary": "📥 Excel tổng hợp",
    "stats.option.sheet_households": "📥 Danh sách hộ",
    "stats.option.sheet_registrations": "📥 Danh sách đăng ký thoát nghèo",
    "stats.option.done": "✔️ Xong",
    "stats.period.month": "tháng {period}",
    "stats.period.quarter": "quý {number}/{year}",
    "stats.period.half_first": "6 tháng đầu năm {year}",
    "stats.period.half_second": "6 tháng cuối năm {year}",
    "stats.period.year": "năm {year}",
    "stats.period.until_month": "{period} (đến tháng {month})",
    "stats.period.until_day": "{period} (đến ngày {day})",
    "stats.carried.one": "chưa gửi — dùng số liệu tháng {month}",
    "stats.carried.many": "{n} thôn chưa gửi tháng {month} — dùng số liệu tháng {source}",
    "stats.carried.many_months": "{n} thôn chưa gửi tháng {month} — dùng số liệu tháng {oldest}–{latest}",
    "stats.baseline.end_of_year": "cuối năm {year}",
    "stats.baseline.month": "tháng {period}",
    "stats.total": "Tổng cộng",
    "stats.summary.title": "📊 {area} — {period} (số liệu tháng {as_of}, tính đến {at})",
    "stats.summary.title_running": "📊 {area} — {period}, tính đến {at}",
    "stats.summary.households_village": "• Tổng số hộ: {total}",
    "stats.summary.report_village": "• Báo cáo tháng {month}: {state}",
    "stats.summary.report_on_time": "đã gửi, đúng hạn",
    "stats.summary.report_late": "đã gửi, muộn hạn",
    "stats.summary.carried": "• {text}: {names}.",
    "stats.summary.carried_name": "{name} (tháng {month})",
    "stats.summary.carried_more": "{names} và {n} thôn khác (đủ cả trong «Excel số liệu tháng»)",
    "stats.summary.uncounted": "• {n} thôn chưa có báo cáo nào trong {months} tháng gần đây: không được tính vào số liệu trên.",
    "stats.summary.households": "• Tổng số hộ: {total} ({villages} thôn; {reported} thôn đã báo cáo tháng {month})",
    "stats.summary.poor": "• Hộ nghèo: {n} ({rate})",
    "stats.summary.near_poor": "• Hộ cận nghèo: {n} ({rate})",
    "stats.summary.this_year": "• Từ đầu năm (tỷ lệ nghèo {start}): {change}; mục tiêu {target} điểm/năm, đạt {done}",
    "stats.summary.no_start": "• Chưa có số liệu cuối năm trước để so sánh từ đầu năm.",
    "stats.summary.baseline": "• So với gốc ({label}, tỷ lệ nghèo {rate}): {points}; hộ nghèo + cận nghèo {both} so với {base} ({change})",
    "stats.summary.no_baseline": "• Chưa có số liệu gốc ({label}).",
    "stats.summary.reports": "• Báo cáo tháng {month}: {filed}/{total} thôn đã gửi ({on_time} đúng hạn, {late} muộn)",
    "stats.summary.registrations": "• Đăng ký thoát nghèo năm {year}: {registered} hộ, đã công nhận {recognised}",
    "stats.summary.support": "• Vận động hỗ trợ trong kỳ: {amount}",
    "stats.award.title": "🏅 Đề xuất khen thưởng — {area} (số liệu đến tháng {month}): {n} địa bàn đạt tiêu chí",
    "stats.award.none_village": "🏅 {area} (số liệu đến tháng {month}): chưa đạt tiêu chí khen thưởng.",
    "stats.award.no_baseline": "Chưa có số liệu gốc ({label}), nên chưa xét được tiêu chí giảm trên {share} % so với gốc.",
    "stats.award.carried": "({note})",
    "stats.chart_by_child_area": "Biểu đồ này so sánh các địa bàn trực thuộc; {area} là thôn nên không có. Xem «Tỷ lệ nghèo theo tháng» hoặc «So với gốc».",
    "stats.award.none": "🏅 {area} (số liệu đến tháng {month}): chưa có địa bàn nào đạt tiêu chí khen thưởng.",
    "stats.award.points": "• {name}: tỷ lệ nghèo giảm ≥ {threshold} điểm mỗi năm ({years})",
    "stats.award.halved": "• {name}: hộ nghèo + cận nghèo giảm {fall} % so với gốc ({base} → {now} hộ)",
    "stats.award.rules": "Tiêu chí: giảm ≥ {points} điểm/năm trong {years} năm liên tiếp (vùng DTTS gấp 1,5 lần), hoặc hộ nghèo + cận nghèo giảm trên {share} % so với đầu kỳ.",
    # --- charts (reports/charts.py) ---
    "charts.month": "T{month}/{year}",
    "charts.month_axis": "T{month}",
    "charts.as_of": "{area} · tính đến {date}",
    "charts.and_more": "… {n} nơi xếp giữa không hiện trên biểu đồ; đủ cả trong «Excel tổng hợp»",
    "charts.gap_row": "⋯ {n} nơi khác ⋯",
    "charts.reading.carried": "Lưu ý: {note}.",
    "charts.reading.carried_village": "Lưu ý: tháng {month} {note}.",
    "charts.carried_village": "* {month}: {note}",
    "charts.no_data": "chưa có số liệu",
    "charts.reading.no_data": "Chưa có số liệu để vẽ biểu đồ này cho {area}.",
    "charts.change.down": "giảm {points} điểm",
    "charts.change.up": "tăng {points} điểm",
    "charts.change.flat": "không đổi",
    "charts.trend.title": "Tỷ lệ hộ nghèo theo tháng",
    "charts.trend.series": "Tỷ lệ hộ nghèo",
    "charts.trend.target": "Lộ trình mục tiêu (giảm {points} điểm/năm)",
    "charts.trend.axis": "Tỷ lệ hộ nghèo (%)",
    "charts.trend.reading.down": "Tỷ lệ hộ nghèo của {area} giảm từ {first} ({first_month}) xuống {last} ({last_month}), {points} điểm; mục tiêu cả năm giảm {target} điểm.",
    "charts.trend.reading.up": "Tỷ lệ hộ nghèo của {area} tăng từ {first} ({first_month}) lên {last} ({last_month}), {points} điểm; mục tiêu cả năm giảm {target} điểm.",
    "charts.trend.reading.flat": "Tỷ lệ hộ nghèo của {area} giữ nguyên {last} từ {first_month} đến {last_month}; mục tiêu cả năm giảm {target} điểm.",
    "charts.trend.reading.single": "Tỷ lệ hộ nghèo của {area} là {last} ({last_month}); mục tiêu cả năm giảm {target} điểm.",
    "charts.trend.reading.on_track": "Đến {month} đã theo kịp lộ trình (mốc {path}).",
    "charts.trend.reading.behind": "Đến {month} còn cao hơn lộ trình {points} điểm (mốc {path}).",
    "charts.reduction.title": "Mức giảm tỷ lệ hộ nghèo năm {year} so với mục tiêu",
    "charts.reduction.axis": "Số điểm % tỷ lệ hộ nghèo đã giảm trong năm {year}",
    "charts.reduction.met": "Đạt mục tiêu",
    "charts.reduction.not_met": "Chưa đạt",
    "charts.reduction.target": "Mục tiêu cả năm",
    "charts.reduction.reading": "Năm {year}, {met}/{total} nơi thuộc {area} đã đạt mục tiêu giảm nghèo cả năm; tốt nhất là {best} ({change}, mục tiêu {target} điểm).",
    "charts.reduction.reading_missing": "{n} nơi chưa có số liệu.",
    "charts.baseline.title": "Hộ nghèo và cận nghèo so với gốc {baseline_label}",
    "charts.baseline.series": "Hộ nghèo + cận nghèo",
    "charts.baseline.line": "Gốc {baseline_label}: {count} hộ",
    "charts.baseline.half": "Mốc giảm 50 % so với gốc: {count} hộ",
    "charts.baseline.half_short": "−50 %",
    "charts.baseline.axis": "Số hộ nghèo và cận nghèo",
    "charts.baseline.reading.down": "Hộ nghèo và cận nghèo của {area} còn {count} hộ ({month}), giảm {pct} so với gốc {baseline_label} ({baseline} hộ); còn cách mốc −50 % {gap} hộ.",
    "charts.baseline.reading.reached": "Hộ nghèo và cận nghèo của {area} còn {count} hộ ({month}), giảm {pct} so với gốc {baseline_label} ({baseline} hộ): đã đạt mốc −50 %.",
    "charts.baseline.reading.up": "Hộ nghèo và cận nghèo của {area} có {count} hộ ({month}), tăng {pct} so với gốc {baseline_label} ({baseline} hộ); còn cách mốc −50 % {gap} hộ.",
    "charts.completeness.title": "Tiến độ gửi báo cáo {period_label}",
    "charts.completeness.on_time": "Đúng hạn",
    "charts.completeness.late": "Gửi muộn",
    "charts.completeness.missing": "Chưa gửi",
    "charts.completeness.axis": "Số báo cáo",
    "charts.completeness.reading": "Báo cáo {period_label} của {area}: {filed}/{total} đã gửi, trong đó {late} gửi muộn; {missing} chưa gửi.",
    "charts.completeness.reading_worst": "Thiếu nhiều nhất: {name} ({n} chưa gửi).",
    "charts.completeness.reading_worst_tied": "Thiếu nhiều nhất ({n} chưa gửi mỗi nơi): {names}.",
    "charts.completeness.reading_missing": "Chưa gửi: {names}.",
    "charts.reading.and_more": "{names} và {n} nơi khác",
    "charts.completeness.reading_complete": "Không nơi nào còn thiếu báo cáo.",
    "charts.funnel.title": "Hộ đăng ký tự nguyện thoát nghèo",
    "charts.funnel.registered": "Đã đăng ký",
    "charts.funnel.reviewed": "Đã đưa ra xem xét",
    "charts.funnel.recognised": "Được công nhận thoát nghèo",
    "charts.funnel.not_yet": "Chưa đạt",
    "charts.funnel.withdrawn": "Rút đăng ký",
    "charts.funnel.value": "{count} hộ · {share}",
    "charts.funnel.pending": "Còn {n} hộ đã đăng ký nhưng chưa được đưa ra xem xét.",
    "charts.funnel.reading": "{area}: {registered} hộ đăng ký tự nguyện thoát nghèo, {recognised} hộ đã được công nhận ({share}); {under_review} hộ đang xem xét, {not_yet} hộ chưa đạt, {withdrawn} hộ rút đăng ký.",
    "charts.ranking.title": "Bảng xếp hạng thi đua giảm nghèo năm {year}",
    "charts.ranking.label": "{rank}. {name}",
    "charts.ranking.rate_header": "Tỷ lệ nghèo hiện nay",
    "charts.ranking.axis": "Mức giảm tỷ lệ hộ nghèo năm {year} (điểm %)",
    "charts.ranking.leader": "{rank}. {name} ({change})",
    "charts.ranking.reading": "Dẫn đầu thi đua giảm nghèo năm {year} ở {area}: {leaders}.",
    # --- poverty standard (reports/poverty.py) ---
    "poverty.status.poor": "hộ nghèo",
    "poverty.status.near_poor": "hộ cận nghèo",
    "poverty.status.average": "hộ có mức sống trung bình",
    "poverty.status.other": "hộ khác (trên mức trung bình)",
    "poverty.area.rural": "nông thôn",
    "poverty.area.urban": "thành thị",
    "poverty.reason.poor": (
        "Thu nhập {income}/người/tháng ≤ chuẩn nghèo {area} {line}, thiếu {deprivations}/{total} "
        "chỉ số (từ {min_deprivations} chỉ số trở lên) → {status} theo {standard}."
    ),
    "poverty.reason.near_poor": (
        "Thu nhập {income}/người/tháng ≤ chuẩn nghèo {area} {line}, thiếu {deprivations}/{total} "
        "chỉ số (dưới {min_deprivations} chỉ số) → {status} theo {standard}."
    ),
    "poverty.reason.average": (
        "Thu nhập {income}/người/tháng > chuẩn nghèo {area} {line} và ≤ {average_max} → {status} "
        "theo {standard}. Hộ có thu nhập trên chuẩn nghèo thì không xét chỉ số thiếu hụt."
    ),
    "poverty.reason.other": (
        "Thu nhập {income}/người/tháng > {average_max}, mức cao nhất của hộ có mức sống trung "
        "bình {area} → {status} theo {standard}. Hộ có thu nhập trên chuẩn nghèo thì không xét "
        "chỉ số thiếu hụt."
    ),
    "poverty.lacking": "Thiếu {n} chỉ số: {items}.",
    "poverty.lacking_of": "Thiếu {n}/{total} chỉ số: {items}.",
    "poverty.lacking_none": "Không thiếu chỉ số nào.",
    "poverty.no_standard": (
        "Chưa có chuẩn nghèo cho năm {year}. Vui lòng báo quản trị viên cập nhật cấu hình."
    ),
    # One label and one yes/no question per deprivation indicator ("có"/"phải" = the household
    # lacks it), asked the way a village head asks a household.
    "poverty.indicator.employment.label": "Việc làm",
    "poverty.indicator.employment.question": "Trong hộ có người trong độ tuổi lao động mà không có việc làm hoặc việc làm không ổn định không?",
    "poverty.indicator.dependants.label": "Người phụ thuộc trong hộ",
    "poverty.indicator.dependants.question": "Người ăn theo (trẻ em, người già, người không làm được việc) có quá nửa số người trong hộ không?",
    "poverty.indicator.nutrition.label": "Dinh dưỡng",
    "poverty.indicator.nutrition.question": "Trong hộ có trẻ em dưới 16 tuổi bị suy dinh dưỡng (thấp còi hoặc nhẹ cân) không?",
    "poverty.indicator.health_insurance.label": "Bảo hiểm y tế",
    "poverty.indicator.health_insurance.question": "Trong hộ có người từ 6 tuổi trở lên chưa có thẻ bảo hiểm y tế không?",
    "poverty.indicator.adult_education.label": "Trình độ giáo dục của người lớn",
    "poverty.indicator.adult_education.question": "Trong hộ có người 16–30 tuổi không đi học, không học nghề và chưa có bằng cấp theo tuổi không?",
    "poverty.indicator.child_schooling.label": "Tình trạng đi học của trẻ em",
    "poverty.indicator.child_schooling.question": "Trong hộ có trẻ em từ 3 đến dưới 16 tuổi không được đi học đúng cấp theo tuổi không?",
    "poverty.indicator.housing_quality.label": "Chất lượng nhà ở",
    "poverty.indicator.housing_quality.question": "Nhà hộ đang ở có phải nhà tạm, nhà đơn sơ, không chắc chắn không?",
    "poverty.indicator.housing_area.label": "Diện tích nhà ở bình quân đầu người",
    "poverty.indicator.housing_area.question": "Diện tích nhà ở có dưới 8 m² cho mỗi người trong hộ không?",
    "poverty.indicator.water.label": "Nguồn nước sinh hoạt",
    "poverty.indicator.water.question": "Hộ chưa có nước sạch để dùng hằng ngày phải không?",
    "poverty.indicator.sanitation.label": "Nhà tiêu hợp vệ sinh",
    "poverty.indicator.sanitation.question": "Hộ chưa có nhà tiêu (nhà vệ sinh) hợp vệ sinh phải không?",
    "poverty.indicator.telecom.label": "Sử dụng dịch vụ viễn thông",
    "poverty.indicator.telecom.question": "Cả hộ không ai dùng điện thoại hay internet phải không?",
    "poverty.indicator.information_access.label": "Phương tiện tiếp cận thông tin",
    "poverty.indicator.information_access.question": "Hộ không có tivi, radio, máy tính và không nghe được loa truyền thanh phải không?",
}


def t(key: str, /, **params: object) -> str:
    """The Vietnamese text of message ``key`` with ``params`` filled in."""
    template = MESSAGES[key]
    return template.format(**params) if params else template
