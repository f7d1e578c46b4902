"""Strings of the locked-down surface (apps/security): refusals and limits."""

STRINGS = {
    "security.file_refused": (
        "拒绝读取文件“{name}”：只能使用你在本页面上传的文件或实验室自带的示例。",
        "Refused the file '{name}': only files you uploaded on this page, or the lab's own samples, can be used.",
    ),
    "security.handler_failed": (
        "操作没有完成：{reason}。请检查输入后重试；其他功能不受影响。",
        "This did not work: {reason}. Check the input and try again; the rest of the lab is unaffected.",
    ),
    "security.key_required": (
        "此实验室设置了 API 密钥：请在 Authorization: Bearer 中提供密钥，或先打开 /?key=密钥 登录页面。",
        "This lab is protected by an API key: send it as 'Authorization: Bearer <key>', or open /?key=<key> once in the browser.",
    ),
    "security.key_page": (
        "此实验室设置了访问密钥（LLMLAB_API_KEY），请输入：",
        "This lab is protected by an access key (LLMLAB_API_KEY). Enter it:",
    ),
    "security.body_too_large": (
        "请求体太大：上限为 {mb} MB。",
        "The request body is too large: the limit is {mb} MB.",
    ),
    "security.upload_too_large": (
        "上传的文件太大：上限为 {mb} MB（LLMLAB_MAX_UPLOAD_MB）。",
        "The uploaded file is too large: the limit is {mb} MB (LLMLAB_MAX_UPLOAD_MB).",
    ),
    "security.server_error": (
        "服务器内部出错（{kind}）。请求没有完成，服务器仍在正常运行，请重试或换一种输入。",
        "Internal server error ({kind}). The request did not complete; the server keeps running: retry or change the input.",
    ),
    "security.url_private": (
        "拒绝访问地址“{url}”：它指向内网、本机或链路本地地址（{ip}）。课堂/Spaces 模式下只有老师允许的地址（LLMLAB_URL_ALLOWLIST）才能这样做。",
        "Refused the base URL '{url}': it points to a private, loopback or link-local address ({ip}). In classroom/Spaces mode only addresses the teacher allowed (LLMLAB_URL_ALLOWLIST) may do that.",
    ),
    "security.url_not_listed": (
        "拒绝访问地址“{url}”：课堂/Spaces 模式下只能使用预设服务商的地址和老师允许的地址（LLMLAB_URL_ALLOWLIST）。",
        "Refused the base URL '{url}': in classroom/Spaces mode only the provider presets' URLs and the addresses the teacher allowed (LLMLAB_URL_ALLOWLIST) can be used.",
    ),
    "security.url_unresolved": (
        "拒绝访问地址“{url}”：无法解析主机名 {host}。",
        "Refused the base URL '{url}': the host name {host} does not resolve.",
    ),
    "security.url_bad": (
        "拒绝访问地址“{url}”：只支持 http:// 或 https:// 开头的完整地址。",
        "Refused the base URL '{url}': only full http:// or https:// URLs are supported.",
    ),
    "security.model_refused": (
        "课堂/Spaces 模式下不能加载“{name}”：只允许内置模型（{choices}）和老师允许的模型（LLMLAB_MODEL_ALLOWLIST）。",
        "'{name}' cannot be loaded in classroom/Spaces mode: only the built-in models ({choices}) and the models the teacher allowed (LLMLAB_MODEL_ALLOWLIST).",
    ),
    "security.adapter_refused": (
        "拒绝加载适配器“{path}”：只能使用实验室微调产生的适配器。",
        "Refused the adapter '{path}': only adapters made by the lab's fine-tuning runs can be loaded.",
    ),
}
