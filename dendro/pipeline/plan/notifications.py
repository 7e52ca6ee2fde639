"""Plan the SNS topic of the alerts and its email subscriptions (each confirmed by its owner)."""

from __future__ import annotations

from dendro.pipeline.models import Instruction, StoreValue, Topic, Variable
from dendro.pipeline.plan.base import Context
from dendro.pipeline.resources import tag_list


def topic(ctx: Context, topic: Topic) -> list[Instruction]:
    arn = ctx.names.topic_arn
    var = f"topic:{topic.name}.arn"
    found = ctx.reader.get("sns", "get_topic_attributes", ("NotFound", "NotFoundException"), TopicArn=arn)
    steps: list[Instruction] = []
    existing: set[str] = set()
    if found is None:
        params = {"Name": topic.name, "Tags": tag_list(topic.tags)}
        output = {"output": var, "output_path": ("TopicArn",)}
        steps.append(ctx.create(topic, "sns", "create_topic", params=params, **output))
    else:
        ctx.check_tags(topic, "sns", "list_tags_for_resource", ResourceArn=arn)
        steps.append(StoreValue(var, arn))
        subs = ctx.clients.pages("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
        existing = {s["Endpoint"].lower() for s in subs if s.get("Protocol") == "email"}
    for email in topic.emails:
        if email.lower() not in existing:
            steps.append(
                ctx.call(
                    topic,
                    "sns",
                    "subscribe",
                    params={"TopicArn": Variable(var), "Protocol": "email", "Endpoint": email},
                    description=f"subscribe {email} to {topic.name} (AWS emails a confirmation link)",
                )
            )
    return steps
