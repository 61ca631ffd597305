"""The CloudFormation templates: cfn-lint clean, and the rules a security review checks.

Templates are decoded with cfn-lint's own loader, so short-form intrinsics
(``!Ref``, ``!Sub`` ...) arrive in their long form (``{"Ref": ...}``).
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import aioboto3
import pytest
from cfnlint.api import ManualArgs, lint_all, lint_file
from cfnlint.decode import decode

from locdetect_worker.config import Settings
from locdetect_worker.handler import FAILURES_PREFIX
from locdetect_worker.local_stack import LOCAL_REGION

CFN = Path(__file__).resolve().parent.parent / "cloudformation"
DEPLOY_DOC = CFN.parent / "README.md"
# The order stacks must be deployed in: each imports only what earlier ones export.
ORDER = ["ecr", "messaging", "storage", "sagemaker", "worker"]
# Actions without resource-level permissions: the only ones allowed on Resource "*".
RESOURCELESS_ACTIONS = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}


@cache
def template(name: str) -> dict[str, Any]:
    decoded, matches = decode(str(CFN / f"{name}.yaml"))
    assert not matches, matches
    return decoded


def resources(name: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template(name)["Resources"].items() if v["Type"] == kind}


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def branches(node: Any) -> Iterator[Any]:
    """The concrete values a possibly ``Fn::If``-wrapped node can take (NoValue dropped)."""
    if isinstance(node, dict) and "Fn::If" in node:
        for branch in node["Fn::If"][1:]:
            yield from branches(branch)
    elif node != {"Ref": "AWS::NoValue"}:
        yield node


def as_list(node: Any) -> list[Any]:
    return [
        item for value in (node if isinstance(node, list) else [node]) for item in branches(value)
    ]


def statements(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM, key, queue, topic and bucket policy statement of a template."""
    for logical_id, resource in template(name)["Resources"].items():
        for node in walk(resource.get("Properties", {})):
            if isinstance(node, dict):
                for key in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
                    if isinstance(node.get(key), dict):
                        for statement in as_list(node[key]["Statement"]):
                            yield logical_id, statement


def test_cfn_lint_reports_nothing() -> None:
    args = ManualArgs(include_checks=["I"])
    findings = [str(m) for name in ORDER for m in lint_file(CFN / f"{name}.yaml", config=args)]
    assert findings == []
    assert sorted(p.stem for p in CFN.glob("*.yaml")) == sorted(ORDER)


def test_cfn_lint_is_really_checking() -> None:
    broken = (CFN / "worker.yaml").read_text().replace("ecr:BatchGetImage", "ecr:BatchGetImagez")
    assert any(m.rule.id == "W3037" for m in lint_all(broken))


def test_every_bucket_is_kms_encrypted_blocked_and_tls_only() -> None:
    buckets = resources("storage", "AWS::S3::Bucket")
    assert set(buckets) == {"BlueprintsBucket", "ResultsBucket"}
    policies = resources("storage", "AWS::S3::BucketPolicy").values()
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["DeletionPolicy"] == "Retain"
        [policy] = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": logical_id}]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ), f"{logical_id} accepts plain HTTP"
    key = resources("storage", "AWS::KMS::Key")["DataKey"]["Properties"]
    assert key["EnableKeyRotation"] is True


def test_bucket_versioning_and_lifecycle() -> None:
    buckets = resources("storage", "AWS::S3::Bucket")
    blueprints = buckets["BlueprintsBucket"]["Properties"]
    assert blueprints["VersioningConfiguration"] == {"Status": "Enabled"}
    assert any(
        "NoncurrentVersionExpiration" in r for r in blueprints["LifecycleConfiguration"]["Rules"]
    )
    rules = buckets["ResultsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    results = {str(r.get("Prefix")): r for r in rules}
    results = {
        **results,
        **{r["Prefix"]["Ref"]: r for r in rules if isinstance(r.get("Prefix"), dict)},
    }
    assert "ExpirationInDays" in results["PendingPrefix"]
    assert "ExpirationInDays" in results["ResultsPrefix"]
    assert "ExpirationInDays" in results[FAILURES_PREFIX]
    params = template("storage")["Parameters"]
    assert params["PendingPrefix"]["Default"] == Settings.model_fields["pending_prefix"].default
    assert params["ResultsPrefix"]["Default"] == Settings.model_fields["results_prefix"].default
    assert params["InputPrefix"]["Default"] == Settings.model_fields["input_prefix"].default


def test_every_queue_has_a_dlq_encryption_and_alarms() -> None:
    queues = resources("messaging", "AWS::SQS::Queue")
    dlqs = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]: name
        for name, q in queues.items()
        if "RedrivePolicy" in q["Properties"]
    }
    assert set(dlqs.values()) == {"EventsQueue", "OutcomesQueue"}
    assert set(queues) == set(dlqs) | set(dlqs.values()), "a queue is neither source nor DLQ"
    for queue in queues.values():
        assert (
            queue["Properties"].get("SqsManagedSseEnabled")
            or "KmsMasterKeyId" in queue["Properties"]
        )
    alarms = resources("messaging", "AWS::CloudWatch::Alarm").values()

    def alarmed(queue: str, metric: str) -> bool:
        dimension = {"Fn::GetAtt": [queue, "QueueName"]}
        return any(
            a["Properties"].get("MetricName") == metric
            and a["Properties"]["Dimensions"][0]["Value"] == dimension
            and a["Properties"]["AlarmActions"]
            for a in alarms
        )

    for dlq, source in dlqs.items():
        assert alarmed(dlq, "ApproximateNumberOfMessagesVisible"), f"no depth alarm on {dlq}"
        assert alarmed(source, "ApproximateAgeOfOldestMessage"), f"no age alarm on {source}"


def test_queue_policies_are_scoped_by_source_and_account() -> None:
    for policy in resources("messaging", "AWS::SQS::QueuePolicy").values():
        allows = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
        ]
        assert allows
        for statement in allows:
            assert set(statement["Principal"]) == {"Service"}
            condition = statement["Condition"]
            assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
            assert "aws:SourceArn" in (condition.get("ArnLike") or condition.get("ArnEquals"))


def test_blueprints_bucket_name_matches_the_queue_policy_pattern() -> None:
    """The notification only validates if S3's source ARN matches the events queue policy."""
    policy = resources("messaging", "AWS::SQS::QueuePolicy")["EventsQueuePolicy"]
    [allow] = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    pattern = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    name = resources("storage", "AWS::S3::Bucket")["BlueprintsBucket"]["Properties"]["BucketName"]
    values = {
        "AWS::Partition": "aws",
        "AWS::AccountId": "123456789012",
        "AWS::Region": "ap-southeast-3",
        "EnvironmentName": "prod-eu-abc",
    }
    arn = "arn:aws:s3:::" + _substitute(name["Fn::Sub"], values)
    assert fnmatch.fnmatchcase(arn, _substitute(pattern, values))
    assert len(arn.removeprefix("arn:aws:s3:::")) <= 63, "bucket name too long at max lengths"


def test_notification_filters_the_input_prefix_into_the_events_queue() -> None:
    bucket = resources("storage", "AWS::S3::Bucket")["BlueprintsBucket"]["Properties"]
    [config] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Queue"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-locdetect-EventsQueueArn"}
    }
    assert config["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": {"Ref": "InputPrefix"}}
    ]


@pytest.mark.parametrize("name", ORDER)
def test_no_wildcard_actions_and_star_resources_only_where_unavoidable(name: str) -> None:
    for logical_id, statement in statements(name):
        assert "NotAction" not in statement and "NotResource" not in statement
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, f"{name}/{logical_id}: wildcard action {action}"
        if "*" in as_list(statement.get("Resource", [])):
            is_key_policy = logical_id in resources(name, "AWS::KMS::Key")
            assert is_key_policy or set(actions) <= RESOURCELESS_ACTIONS, (
                f"{name}/{logical_id}: {actions} on Resource '*'"
            )


def test_imports_are_exported_by_an_earlier_stack() -> None:
    exported: set[str] = set()
    for name in ORDER:
        for node in walk(template(name)["Resources"]):
            if isinstance(node, dict) and "Fn::ImportValue" in node:
                export = node["Fn::ImportValue"]["Fn::Sub"]
                assert export in exported, f"{name} imports {export} before it is exported"
        for output in template(name).get("Outputs", {}).values():
            if "Export" in output:
                exported.add(output["Export"]["Name"]["Fn::Sub"])


def test_deploy_doc_deploys_every_stack_in_order() -> None:
    text = DEPLOY_DOC.read_text()
    deployed = re.findall(r"--template-file cloudformation/(\w+)\.yaml", text)
    assert deployed == ORDER


def _container() -> dict[str, Any]:
    task = resources("worker", "AWS::ECS::TaskDefinition")["TaskDefinition"]["Properties"]
    [container] = task["ContainerDefinitions"]
    return container


def test_task_environment_sets_only_real_settings() -> None:
    env = [item for entry in _container()["Environment"] for item in branches(entry)]
    names = [item["Name"] for item in env]
    assert len(names) == len(set(names))
    fields = {n.removeprefix("LOCDETECT_").lower() for n in names if n.startswith("LOCDETECT_")}
    assert len(fields) == len(names), "a variable without the LOCDETECT_ prefix"
    unknown = fields - set(Settings.model_fields)
    assert not unknown, f"not settings: {sorted(unknown)}"
    assert {
        "queue_url",
        "results_bucket",
        "backend",
        "sagemaker_endpoint",
        "outcomes_queue_url",
        "health_file",
    } <= fields
    literals = {
        n.removeprefix("LOCDETECT_").lower(): item["Value"]
        for n, item in zip(names, env, strict=True)
        if isinstance(item["Value"], str)
    }
    Settings(**literals)  # the literal values parse


def test_task_defaults_are_valid_settings() -> None:
    params = template("worker")["Parameters"]
    settings = Settings(
        backend=params["Backend"]["Default"],
        concurrency=params["Concurrency"]["Default"],
        shutdown_grace=params["ShutdownGrace"]["Default"],
        log_level=params["LogLevel"]["Default"],
        visibility_timeout=template("messaging")["Parameters"]["VisibilityTimeout"]["Default"],
    )
    assert settings.shutdown_grace + 10 <= params["StopTimeout"]["Default"] <= 120
    assert params["ShutdownGrace"]["MaxValue"] < params["StopTimeout"]["MaxValue"]


def test_task_is_hardened_logged_and_health_checked() -> None:
    container = _container()
    assert container["HealthCheck"]["Command"] == ["CMD", "locdetect-worker", "health"]
    assert container["StopTimeout"] == {"Ref": "StopTimeout"}
    assert container["LinuxParameters"]["InitProcessEnabled"] is True
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    log_group = resources("worker", "AWS::Logs::LogGroup")["LogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    group = resources("worker", "AWS::EC2::SecurityGroup")["SecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [rule["FromPort"] for rule in group["SecurityGroupEgress"]] == [443]


def test_task_role_can_write_every_prefix_the_worker_writes() -> None:
    role = resources("worker", "AWS::IAM::Role")["TaskRole"]["Properties"]
    [policy] = role["Policies"]
    writable = set()
    for statement in as_list(policy["PolicyDocument"]["Statement"]):
        if "s3:PutObject" in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                pattern, names = resource["Fn::Sub"]
                prefix = pattern.removeprefix("${Bucket}/").removesuffix("*")
                writable.add(
                    names[prefix.strip("${}")]["Fn::ImportValue"]["Fn::Sub"]
                    if prefix.startswith("${")
                    else prefix
                )
    imported = "${EnvironmentName}-locdetect-%s"
    assert writable == {imported % "ResultsPrefix", imported % "PendingPrefix", FAILURES_PREFIX}


def test_worker_service_scales_on_backlog_per_task_and_wakes_from_zero() -> None:
    target = resources("worker", "AWS::ApplicationAutoScaling::ScalableTarget")["ScalableTarget"]
    assert template("worker")["Parameters"]["MinTasks"]["Default"] == 0
    assert target["Properties"]["MinCapacity"] == {"Ref": "MinTasks"}
    policies = resources("worker", "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policies["BacklogPerTaskPolicy"]["Properties"]
    metrics = tracking["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    [expression] = [m["Expression"] for m in metrics["Metrics"] if m["ReturnData"]]
    assert expression.endswith("/ tasks")
    alarm = resources("worker", "AWS::CloudWatch::Alarm")["BacklogWithoutTasksAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "WakeFromZeroPolicy"}]
    assert policies["WakeFromZeroPolicy"]["Properties"]["PolicyType"] == "StepScaling"


def test_endpoint_is_async_and_scales_from_zero() -> None:
    params = template("sagemaker")["Parameters"]
    assert params["InstanceType"]["Default"] == "ml.m5.xlarge"
    assert params["MaxConcurrentInvocationsPerInstance"]["Default"] == 4
    config = resources("sagemaker", "AWS::SageMaker::EndpointConfig")["EndpointConfig"]
    async_config = config["Properties"]["AsyncInferenceConfig"]
    output = async_config["OutputConfig"]
    assert {"S3OutputPath", "S3FailurePath"} <= set(output)
    assert set(output["NotificationConfig"]) == {"SuccessTopic", "ErrorTopic"}
    assert async_config["ClientConfig"]["MaxConcurrentInvocationsPerInstance"] == {
        "Ref": "MaxConcurrentInvocationsPerInstance"
    }
    target = resources("sagemaker", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ScalableTarget"]["Properties"]["MinCapacity"] == 0
    policies = resources("sagemaker", "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policies["BacklogTrackingPolicy"]["Properties"]
    spec = tracking["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert spec["MetricName"] == "ApproximateBacklogSizePerInstance"
    alarm = resources("sagemaker", "AWS::CloudWatch::Alarm")["HasBacklogWithoutCapacityAlarm"]
    assert alarm["Properties"]["MetricName"] == "HasBacklogWithoutCapacity"
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": "WakeFromZeroPolicy"}]
    assert policies["WakeFromZeroPolicy"]["Properties"]["PolicyType"] == "StepScaling"


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/{env}/locdetect-{name}:abc123"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("backend", ["local", "sagemaker"])
async def test_every_stack_creates_in_order_on_moto(moto_endpoint: str, backend: str) -> None:
    """The templates as documents: parameters, imports and outputs resolve into real resources.

    moto's CloudFormation skips alarms, subscriptions, scaling, queue and bucket
    policies, public access blocks, versioning and bucket notifications (the static
    tests cover those), so this checks what it builds: queues, key, buckets and the
    task definition, whose resolved environment must be a complete worker configuration.
    """
    env = f"t{uuid.uuid4().hex[:8]}"
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with (
        session.client("cloudformation", endpoint_url=moto_endpoint) as cfn,
        session.client("ec2", endpoint_url=moto_endpoint) as ec2,
        session.client("ecs", endpoint_url=moto_endpoint) as ecs,
        session.client("s3", endpoint_url=moto_endpoint) as s3,
        session.client("sqs", endpoint_url=moto_endpoint) as sqs,
    ):
        vpc = (await ec2.create_vpc(CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
        subnet = (await ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24"))["Subnet"]
        parameters = {
            "sagemaker": {"InferenceImageUri": IMAGE.format(env=env, name="inference")},
            "worker": {
                "WorkerImageUri": IMAGE.format(env=env, name="worker"),
                "VpcId": vpc,
                "SubnetIds": subnet["SubnetId"],
                "Backend": backend,
            },
        }
        outputs: dict[str, str] = {}
        for name in ORDER:
            values = {"EnvironmentName": env, **parameters.get(name, {})}
            await cfn.create_stack(
                StackName=f"{env}-locdetect-{name}",
                TemplateBody=(CFN / f"{name}.yaml").read_text(),
                Capabilities=["CAPABILITY_IAM"],
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            )
            [created] = (await cfn.describe_stacks(StackName=f"{env}-locdetect-{name}"))["Stacks"]
            assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
            outputs |= {o["OutputKey"]: o["OutputValue"] for o in created["Outputs"]}

        attributes = (
            await sqs.get_queue_attributes(
                QueueUrl=outputs["EventsQueueUrl"], AttributeNames=["All"]
            )
        )["Attributes"]
        assert (
            json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
            == outputs["EventsDeadLetterQueueArn"]
        )
        assert attributes["SqsManagedSseEnabled"] == "true"
        for bucket in (outputs["BlueprintsBucketName"], outputs["ResultsBucketName"]):
            encryption = await s3.get_bucket_encryption(Bucket=bucket)
            [rule] = encryption["ServerSideEncryptionConfiguration"]["Rules"]
            default = rule["ApplyServerSideEncryptionByDefault"]
            assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": outputs["DataKeyArn"]}

        family = f"{env}-locdetect-worker"
        task = (await ecs.describe_task_definition(taskDefinition=family))["taskDefinition"]
        [container] = task["containerDefinitions"]
        # moto keeps an Fn::If's AWS::NoValue as a null list item; CloudFormation drops it.
        environment = {e["name"]: e["value"] for e in container["environment"] if e}
        settings = Settings(
            **{k.removeprefix("LOCDETECT_").lower(): v for k, v in environment.items()}
        )
        settings.require_daemon_settings()
        assert settings.backend == backend
        assert settings.queue_url == outputs["EventsQueueUrl"]
        assert settings.results_bucket == outputs["ResultsBucketName"]
        assert settings.effective_workers == 2
        if backend == "sagemaker":
            assert settings.outcomes_queue_url == outputs["OutcomesQueueUrl"]
        else:
            assert "LOCDETECT_SAGEMAKER_ENDPOINT" not in environment


def _substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)
