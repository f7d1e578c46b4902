"""Messages about the files, folders and numbers a user names (CLI flags, uploads): apps.userfiles, apps.cliargs."""

STRINGS = {
    "files.missing": ("找不到文件：{path}", "No such file: {path}"),
    "files.is_folder": ("{path} 是一个文件夹，这里需要一个文件。", "{path} is a folder; a file is needed here."),
    "files.not_folder": ("{path} 已经是一个文件，这里需要一个文件夹。", "{path} is an existing file; a folder is needed here."),
    "files.binary": ("{path} 不是文本文件（像是二进制文件，如图片、PDF 或压缩包）。请提供 UTF-8 纯文本。",
                     "{path} is not a text file (it looks binary: an image, PDF or archive?). Give plain UTF-8 text."),
    "files.not_utf8": ("{path} 不是 UTF-8 编码（第 {offset} 个字节无法解码）。请另存为 UTF-8 后再试。",
                       "{path} is not UTF-8 (byte {offset} cannot be decoded). Save it as UTF-8 and try again."),
    "files.unreadable": ("无法读取 {path}：{why}", "Cannot read {path}: {why}"),
    "files.parent_not_folder": ("无法写入 {path}：{parent} 是文件，不是文件夹。",
                                "Cannot write {path}: {parent} is a file, not a folder."),
    "files.not_writable": ("无法写入 {path}：没有 {parent} 的写权限。",
                           "Cannot write {path}: no permission to write in {parent}."),
    "files.not_adapter": ("{path} 不是 peft 适配器文件夹（里面没有 adapter_config.json）。",
                          "{path} is not a peft adapter folder (it has no adapter_config.json)."),
    "cli.not_int": ("“{value}”不是整数。", "'{value}' is not a whole number."),
    "cli.not_number": ("“{value}”不是数字。", "'{value}' is not a number."),
    "cli.int_at_least": ("应为不小于 {lo} 的整数，收到 {value}。", "must be a whole number ≥ {lo}, not {value}."),
    "cli.int_between": ("应为 {lo} 到 {hi} 之间的整数，收到 {value}。", "must be a whole number from {lo} to {hi}, not {value}."),
    "cli.positive_number": ("应为大于 0 的数，收到 {value}。", "must be a number > 0, not {value}."),
}
