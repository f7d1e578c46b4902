"""Identity and ownership: who is signed in (personal | classroom | spaces), the class database,
signed cookies, quotas, the sign-in page, the teacher's panel and `llmlab class`."""
from apps.auth.identity import MODES, Auth, mode_from_env
from apps.auth.users import LOCAL, User, may_access, require, require_teacher

__all__ = ["MODES", "Auth", "mode_from_env", "LOCAL", "User", "may_access", "require", "require_teacher"]
