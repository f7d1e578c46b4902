"""Strings of the API task lab (tab key "tasks"): providers, summarisation, classification, batch runs."""

STRINGS = {
    "tasks.tab": ("API 任务实验", "API task lab"),
    # ------------------------------------------------------------ provider errors
    "tasks.unknown_preset": ("未知的服务商“{name}”。可选：{choices}", "Unknown provider '{name}'. Choose one of: {choices}"),
    "tasks.need_base_url": ("请填写接口地址（Base URL），例如 http://127.0.0.1:8000/v1。",
                            "Enter the API base URL, e.g. http://127.0.0.1:8000/v1."),
    "tasks.need_model": ("请填写模型名称。", "Enter a model name."),
    "tasks.need_key": (
        "{provider} 需要 API 密钥。请在本页填写（只保存在你的浏览器会话里），命令行下请设置环境变量 {env}。",
        "{provider} needs an API key. Enter it on this page (kept only in your browser session); on the command line set {env}.",
    ),
    "tasks.err_auth": (
        "认证失败（HTTP {status}）：{provider} 拒绝了这个 API 密钥。请检查密钥是否正确、是否过期、是否对应这个服务商。服务器说：{detail}",
        "Authentication failed (HTTP {status}): {provider} rejected the API key. Check that it is correct, not expired, and for this provider. Server said: {detail}",
    ),
    "tasks.err_not_found": (
        "找不到（HTTP 404）：地址 {url} 上没有模型“{model}”。请检查模型名和接口地址。服务器说：{detail}",
        "Not found (HTTP 404): no model '{model}' at {url}. Check the model name and base URL. Server said: {detail}",
    ),
    "tasks.err_rate": (
        "请求太频繁或额度用完（HTTP 429），重试几次后仍失败。请稍后再试、降低并发，或检查账户余额。服务器说：{detail}",
        "Rate limited or out of quota (HTTP 429), still failing after retries. Wait a while, send fewer requests, or check your balance. Server said: {detail}",
    ),
    "tasks.err_server": (
        "服务商的服务器出错（HTTP {status}），重试几次后仍失败。这通常不是你的问题，请稍后再试。服务器说：{detail}",
        "The provider's server failed (HTTP {status}), still failing after retries. Usually not your fault: try again later. Server said: {detail}",
    ),
    "tasks.err_bad_request": (
        "请求被拒绝（HTTP {status}）：参数或输入不被接受（例如输入太长、参数超出范围）。服务器说：{detail}",
        "Request rejected (HTTP {status}): a parameter or the input was not accepted (e.g. input too long, value out of range). Server said: {detail}",
    ),
    "tasks.err_timeout": (
        "请求超时：{url} 在 {seconds} 秒内没有回答。模型可能太慢或网络不通，可调大超时或缩短输入。",
        "Timed out: {url} did not answer within {seconds} s. The model may be slow or the network down; raise the timeout or shorten the input.",
    ),
    "tasks.err_connect": (
        "连不上 {url}。请检查地址和端口、服务是否已启动，以及这台机器能否访问外网。",
        "Cannot connect to {url}. Check the address and port, that the server is running, and that this machine can reach it.",
    ),
    "tasks.err_malformed": (
        "服务器返回的内容无法解析（不是符合 OpenAI 格式的 JSON）。请确认接口地址指向 OpenAI 兼容接口（通常以 /v1 结尾）。详情：{detail}",
        "The server's reply could not be parsed (not OpenAI-style JSON). Check that the base URL points to an OpenAI-compatible API (usually ending in /v1). Detail: {detail}",
    ),
    # ------------------------------------------------------------ data and task errors
    "tasks.no_file": ("找不到文件：{file}", "File not found: {file}"),
    "tasks.bad_encoding": ("无法识别文件 {file} 的编码，请另存为 UTF-8。", "Cannot tell the encoding of {file}; save it as UTF-8."),
    "tasks.bad_json": ("{file} 第 {line} 行不是合法的 JSON：{reason}", "{file} line {line} is not valid JSON: {reason}"),
    "tasks.bad_row": ("{file} 第 {line} 条不是对象（应为 {{\"text\": ...}}）。", "{file} item {line} is not an object (expected {{\"text\": ...}})."),
    "tasks.missing_text": ("{file} 第 {line} 条没有文本字段（可用字段名：{fields}）。",
                           "{file} item {line} has no text field (accepted names: {fields})."),
    "tasks.empty_file": ("{file} 里没有任何数据。", "{file} contains no items."),
    "tasks.template_needs": ("提示词模板里必须包含占位符 {field}。", "The prompt template must contain the placeholder {field}."),
    "tasks.bad_method": ("未知的方法“{method}”。可选：{choices}", "Unknown method '{method}'. Choose one of: {choices}"),
    "tasks.need_labels": ("至少需要两个类别：请填写类别列表，或使用带 label 字段的数据。",
                          "At least two labels are needed: list them, or use data with a label field."),
    "tasks.need_train": (
        "“{method}”需要带标签的训练样本（split 为 train 的条目，每类至少一条，且至少两类）。",
        "'{method}' needs labelled training items (split = train, at least one per label and two labels).",
    ),
    "tasks.no_test": ("没有可评测的条目：所有条目都标成了训练集。", "Nothing to score: every item is marked as training data."),
    "tasks.no_data": ("请先上传数据文件或选择一份示例数据。", "Upload a data file or pick a sample set first."),
}
