"""The soak's 50 services: each kind's unit text, and how long after the chaos stops
each must be running again (its budget's bound). Every program is `/bin/sh -c SCRIPT
soak-NAME`, so `soak-NAME` is argv[0] of the service and of every subshell it forks:
that is how the observer tells which process group is which service's instance."""

import json

# kind: (count, script, extra unit text, bound in seconds after the chaos stops or None
# when the kind is not expected to be up at a given moment)
STEADY_RESTART = '[restart]\ndelay = "100ms"\nmax-delay = "1s"\nmax-failures = 100000\nwindow = "1m"\n'
SHORT_STOP = '[stop]\ntimeout = "2s"\n'
SLACK = 8.0


def kinds(directory):
    """Every kind of service, in the order they are numbered."""
    return {
        # Runs until killed: the plain case.
        "steady": (10, "sleep 100000 & wait", STEADY_RESTART + SHORT_STOP, 1.0 + SLACK),
        # Keeps two children: the driver kills and stops children too.
        "parent": (6, "sleep 100000 & sleep 100000 & wait", STEADY_RESTART + SHORT_STOP, 1.0 + SLACK),
        # A real budget: chaos can open its circuit, which closes after the cooldown.
        "budgeted": (
            4,
            "sleep 100000 & wait",
            '[restart]\ndelay = "200ms"\nmax-delay = "1s"\nmax-failures = 4\nwindow = "20s"\n'
            'cooldown = "3s"\nmax-cooldown = "6s"\n' + SHORT_STOP,
            6.0 + 1.0 + SLACK,
        ),
        # Exits 1 soon after every start.
        "crashing": (
            5,
            "sleep 0.3; exit 1",
            '[restart]\ndelay = "200ms"\nmultiplier = 1.5\nmax-delay = "2s"\nmin-uptime = "100ms"\n'
            "max-failures = 100000\nwindow = \"10s\"\n",
            None,
        ),
        # Runs one to four seconds, then exits 3.
        "flapping": (
            5,
            "sleep $(( $$ % 4 + 1 )); exit 3",
            '[restart]\ndelay = "100ms"\nmax-delay = "1s"\nmin-uptime = "500ms"\nmax-failures = 100000\n'
            'window = "10s"\n',
            None,
        ),
        # Ready two seconds after it starts (an exec check polls for its file).
        "slow-ready": (
            4,
            "rm -f ready-$0; sleep 2; touch ready-$0; sleep 100000 & wait",
            '[ready]\ncheck = "exec"\ncommand = "test -e ready-$SOAK_NAME"\ninterval = "250ms"\n'
            'timeout = "10s"\n' + STEADY_RESTART + SHORT_STOP,
            1.0 + 2.5 + SLACK,
        ),
        # Healthy four seconds, then unhealthy: stopped and restarted as unhealthy.
        "unhealthy": (
            4,
            "touch healthy-$0; sleep 4; rm -f healthy-$0; sleep 100000 & wait",
            '[health]\ncheck = "exec"\ncommand = "test -e healthy-$SOAK_NAME"\ninterval = "1s"\n'
            "failure-threshold = 2\n" + STEADY_RESTART + SHORT_STOP,
            None,
        ),
        # Beats its heartbeat file five seconds, then hangs: the watchdog ends it.
        "hanging": (
            4,
            "i=0; while [ $i -lt 5 ]; do touch heartbeat-$0; sleep 1; i=$((i+1)); done; "
            "sleep 100000 & wait",
            '[watchdog]\ntimeout = "3s"\nheartbeat-file = "' + directory + '/heartbeat-soak-{name}"\n'
            + STEADY_RESTART + '[stop]\ntimeout = "1s"\n',
            None,
        ),
        # Writes bursts of lines to stdout (Phoenix's console) forever.
        "chatty": (
            4,
            'while :; do i=0; while [ $i -lt 50 ]; do echo "$0 line $i"; i=$((i+1)); done; '
            "sleep 0.2; done",
            STEADY_RESTART + SHORT_STOP,
            1.0 + SLACK,
        ),
        # Runs once to completion.
        "oneshot": (4, 'sleep 0.5; echo "$0 done" >> oneshots.log', 'kind = "oneshot"\n', None),
    }


def build(directory):
    """{name: (kind, unit text, bound)} for every service."""
    services = {}
    for kind, (count, script, extra, bound) in kinds(directory).items():
        for index in range(count):
            name = f"{kind}-{index}"
            services[name] = (kind, unit_text(name, script, extra), bound)
    return services


def unit_text(name, script, extra, generation=None):
    command = json.dumps(["/bin/sh", "-c", script, f"soak-{name}"])
    environment = {"SOAK_NAME": f"soak-{name}"}
    if generation is not None:
        environment["SOAK_GENERATION"] = str(generation)
    table = ", ".join(f"{key} = {json.dumps(value)}" for key, value in environment.items())
    header = f'description = "soak {name}"\ncommand = {command}\nenvironment = {{ {table} }}\n'
    return header + extra.replace("{name}", name)


def edited(name, kind, directory, generation):
    """A valid edit of a unit (a new environment), which a reload applies by restarting it."""
    _, script, extra, _ = kinds(directory)[kind]
    return unit_text(name, script, extra, generation)


INVALID = [
    'command = ["/bin/sh", "-c"\n',
    'command = []\n',
    'command = "true"\n[restart]\ndelay = "soon"\n',
    'command = "true"\nrequires = ["no-such-unit"]\nafter = ["no-such-unit"]\nbogus-key = 1\n',
]
