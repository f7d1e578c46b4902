"""Titles of the toasts (pop-up messages) in the page's language (apps.ui.toast_css)."""

STRINGS = {
    "toast.error": ("出错了", "Error"),
    "toast.warning": ("注意", "Warning"),
    "toast.info": ("提示", "Info"),
    "toast.success": ("完成", "Success"),
}
