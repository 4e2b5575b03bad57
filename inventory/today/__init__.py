"""The Today page: every role's home, listing what that role has to do today, each row one tap
from its action."""
