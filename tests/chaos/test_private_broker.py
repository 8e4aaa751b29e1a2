"""The campaign's RabbitMQ is a node of its own: restarting it leaves the machine's broker (and every
other test run on it) alone, and stopping it leaves nothing behind."""
import pika
import pika.exceptions
import pytest

from tests.support.infra import reachable
from tests.support.processes import RabbitMQServer


@pytest.mark.e2e
def test_the_private_node_restarts_without_touching_the_machines_broker_and_is_removed(tmp_path, infra):
    broker = RabbitMQServer(tmp_path)
    shared = pika.BlockingConnection(pika.URLParameters(infra.amqp_url))
    try:
        broker.start()
        assert broker.port != 5672 and broker.node.endswith("@localhost") and broker.node != "rabbit@localhost"
        assert broker.node in broker.ctl("status")
        broker.ctl("add_vhost", "campaign")
        broker.ctl("set_permissions", "-p", "campaign", "guest", ".*", ".*", ".*")
        private = pika.BlockingConnection(pika.URLParameters(f"{broker.url}/campaign"))
        private.channel().queue_declare("q", durable=True, arguments={"x-queue-type": "quorum"})

        broker.ctl("stop_app")
        assert not reachable("127.0.0.1", broker.port)
        broker.ctl("start_app")
        broker.ctl("await_startup")

        with pytest.raises(pika.exceptions.AMQPConnectionError):
            private.process_data_events(time_limit=1)  # the restart closed the private broker's connections
        shared.process_data_events(time_limit=1)  # and not the machine's
        assert shared.is_open
        again = pika.BlockingConnection(pika.URLParameters(f"{broker.url}/campaign"))
        assert again.channel().queue_declare("q", passive=True).method.message_count == 0  # its data survived
        again.close()
    finally:
        broker.stop()
        shared.close()
    assert not broker.alive() and not reachable("127.0.0.1", broker.port)
    assert not broker.home.exists()  # configuration, database and cookie removed; the log stays with the test's
    assert broker.log_path.exists()
