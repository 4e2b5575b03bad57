# gunicorn reads this file from the working directory: `gunicorn 'inventory:create_app()'`.
# Access log lines go through a logger that hides secret query values (the calendar feed's
# ?token=), see inventory/core/access_log.py.
logger_class = "inventory.core.access_log.RedactingLogger"
