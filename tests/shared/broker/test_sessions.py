"""Every MQTT account's session is its own, on a real Mosquitto prepared as the emulator prepares
it: no account takes over, reads or kicks off another account's session by using its client id,
over MQTT 3.1.1 and 5, with clean and persistent sessions, on the MQTT and WebSocket listeners;
and nothing is delivered to a client that its roles do not allow it to receive."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emulator.mosquitto import Broker
from shared.broker.dynsec import DynamicSecurity
from shared.broker.mosquitto import MosquittoAdmin
from shared.broker.publisher import MqttPublisher
from tests.support.broker import running_broker
from tests.support.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.process]

DEVICES = {"dev-a": "token-a", "dev-b": "token-b"}
PROTOCOLS = {"3.1.1": mqtt.MQTTv311, "5": mqtt.MQTTv5}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("sessions")) as running:
        admin = MosquittoAdmin(*running.login("stratus-admin"))
        for device, token in DEVICES.items():
            admin.register_device(device, token)
        admin.close()
        yield running


def _accounts(broker: Broker) -> dict[str, str]:
    """Every account of the platform: devices, bridges, worker API and admin, the root admin."""
    return {**DEVICES, **broker.accounts}


@dataclass
class Session:
    """One MQTT connection, recording what the broker does to it."""

    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)
    session_present: bool | None = None
    refused: Any = None
    messages: list[bytes] = field(default_factory=list)
    acks: dict[int, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def round_trip(self, topic: str = "probe/none") -> bool:
        """SUBSCRIBE and wait for the SUBACK (a refusal counts: the connection answered)."""
        done = threading.Event()
        with self.lock:  # registered before the callback can look for it
            rc, mid = self.client.subscribe(topic, qos=1)
            if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
                return False
            self.acks[mid] = done
        return done.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(
    broker: Broker,
    username: str,
    password: str,
    *,
    client_id: str,
    protocol: str = "5",
    clean: bool = True,
    transport: str = "tcp",
) -> Session:
    version = PROTOCOLS[protocol]
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=clean if version == mqtt.MQTTv311 else None,
        transport="websockets" if transport == "ws" else "tcp",
    )
    session = Session(client)
    client.username_pw_set(username, password)

    def on_connect(c: Any, u: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            session.refused = reason
            session.closed.set()
            return
        session.session_present = bool(flags.session_present)
        session.connected.set()

    def on_subscribe(c: Any, u: Any, mid: int, reasons: Any, props: Any) -> None:
        with session.lock:
            waiting = session.acks.pop(mid, None)
        if waiting is not None:
            waiting.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *args: session.closed.set()
    client.on_message = lambda c, u, m: session.messages.append(m.payload)
    client.on_subscribe = on_subscribe
    client.reconnect_delay_set(30, 30)  # a kicked session must stay visibly kicked
    extra: dict[str, Any] = {}
    if version == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if clean else 600
        extra = {"clean_start": clean, "properties": props}
    port = broker.ws_port if transport == "ws" else broker.port
    client.connect(broker.local_host, port, keepalive=30, **extra)
    client.loop_start()
    assert session.connected.wait(5) or session.closed.wait(5)
    return session


def persistent(broker: Broker, account: str, password: str) -> Session:
    """The account's own session, resumed (MQTT 5, kept 10 minutes)."""
    session = connect(broker, account, password, client_id=account, clean=False)
    assert session.connected.is_set(), session.refused
    return session


def attacks(broker: Broker, victim: str) -> Iterator[tuple[str, Session]]:
    """Every other account logging in with the victim's client id, over every protocol,
    session kind and listener; yields (what, session) with the session's first round trip
    done, so whatever the broker sends on resuming a session has arrived."""
    others = [(name, pw) for name, pw in _accounts(broker).items() if name != victim]
    for (name, password), protocol, clean, transport in itertools.product(
        others, PROTOCOLS, (True, False), ("tcp", "ws")
    ):
        what = f"{name} as {victim!r}, MQTT {protocol}, clean={clean}, {transport}"
        session = connect(broker, name, password, client_id=victim, protocol=protocol,
                          clean=clean, transport=transport)  # fmt: skip
        if session.connected.is_set():  # else refused: as good an outcome as any
            assert session.round_trip(), what
            yield what, session
        session.close()


def _queue_for(broker: Broker, victim: str, markers: list[bytes]) -> None:
    """Messages waiting in the victim's offline session."""
    if victim in DEVICES:
        api = MqttPublisher(*broker.login("stratus-api-1"))
        for marker in markers:
            assert api.publish(f"devices/{victim}/commands/mark", marker) is True
        api.close()
    else:  # a bridge: device telemetry through its shared subscription
        device = persistent(broker, "dev-b", DEVICES["dev-b"])
        for marker in markers:
            device.client.publish("devices/dev-b/events", marker, qos=1).wait_for_publish(5)
        device.close()


def _subscribe_as_victim(session: Session, victim: str) -> None:
    topic = (
        f"devices/{victim}/commands/#"
        if victim in DEVICES
        else f"$share/{victim}/devices/+/events/#"
    )
    assert session.round_trip(topic)


@pytest.mark.parametrize("victim", ["dev-a", "dev-b", "stratus-bridge-1", "stratus-bridge-2"])
def test_no_account_takes_over_or_reads_a_persistent_session(broker: Broker, victim: str) -> None:
    password = _accounts(broker)[victim]
    owner = persistent(broker, victim, password)
    _subscribe_as_victim(owner, victim)
    owner.close()
    markers = [f"{victim}-{n}".encode() for n in range(3)]
    _queue_for(broker, victim, markers)

    for what, session in attacks(broker, victim):
        assert not set(markers) & set(session.messages), f"{what} read the victim's messages"

    owner = persistent(broker, victim, password)
    assert owner.session_present, "the victim's session was taken or cleared"
    assert until(lambda: len(owner.messages) >= len(markers))
    assert sorted(owner.messages) == markers  # every queued message, none taken by anyone
    owner.close()


@pytest.mark.parametrize(
    "victim",
    ["dev-a", "stratus-bridge-1", "stratus-api-1", "stratus-admin-1", "stratus-admin"],
)
def test_no_account_kicks_a_connected_session_off(broker: Broker, victim: str) -> None:
    owner = persistent(broker, victim, _accounts(broker)[victim])
    for what, _ in attacks(broker, victim):
        # the broker handled the other login before answering it: a kick has happened by now
        assert owner.round_trip() and not owner.closed.is_set(), f"{what} kicked the owner off"
    owner.close()


def test_every_account_is_pinned_to_its_own_client_id(broker: Broker) -> None:
    """Defence in depth: even a listener that kept client ids would refuse another one."""
    admin = DynamicSecurity(*broker.login("stratus-admin"))
    try:
        listing = admin.run("listClients", verbose=True, count=-1, offset=0)["data"]["clients"]
    finally:
        admin.close()
    assert {c["username"] for c in listing} == set(_accounts(broker))
    assert all(c.get("clientid") == c["username"] for c in listing), listing


def test_nothing_is_delivered_that_a_role_does_not_allow_to_receive(broker: Broker) -> None:
    """Receiving is denied by default: a client holding a subscription to every device topic
    (here through a test role that allows subscribing but grants no receiving) gets nothing
    but what it may receive (the probe topic)."""
    admin = DynamicSecurity(*broker.login("stratus-admin"))
    acls = [
        {"acltype": "subscribePattern", "topic": "#", "allow": True},
        {"acltype": "publishClientReceive", "topic": "probe/#", "allow": True},
        {"acltype": "publishClientSend", "topic": "probe/#", "allow": True},
    ]
    admin.run("createRole", rolename="eavesdropper", acls=acls)
    admin.run("createClient", username="eve", password="eve-pw", clientid="eve",
              roles=[{"rolename": "eavesdropper"}])  # fmt: skip
    try:
        eve = persistent(broker, "eve", "eve-pw")
        assert eve.round_trip("#")
        device = persistent(broker, "dev-a", DEVICES["dev-a"])
        device.client.publish("devices/dev-a/events", b"secret", qos=1).wait_for_publish(5)
        eve.client.publish("probe/1", b"probe", qos=1).wait_for_publish(5)
        assert until(lambda: b"probe" in eve.messages)
        assert eve.messages == [b"probe"]
        device.close()
        eve.close()
    finally:
        admin.run("deleteClient", username="eve")
        admin.run("deleteRole", rolename="eavesdropper")
        admin.close()
