"""KFP 2.2's platform-document parser, rebuilt from its own proto.

KFP's driver up to 2.4.0 reads each executor's KubernetesExecutorConfig
with `jsonpb.UnmarshalString` (backend/src/v2/cmd/driver/main.go), which
refuses a field the proto does not have. The proto of that release is
vendored verbatim beside this file:
`data/kfp-2.2.0-kubernetes_executor_config.proto` is
kubernetes_platform/proto/kubernetes_executor_config.proto of
kubeflow/pipelines at tag 2.2.0 (commit dd59f48cdd0f), the backend of
Kubeflow 1.9.0. No protoc here, so the few constructs that file uses
(messages, nested messages, oneof, map, repeated, optional, scalars,
google.protobuf.Struct) are turned into a FileDescriptorProto, and the
protobuf runtime's own JSON parser, `json_format.Parse` without
`ignore_unknown_fields`, checks a document against it: as strict as jsonpb
on unknown fields, oneofs and value types.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf import message_factory, struct_pb2

KFP_2_2_PROTO = Path(__file__).parent / "data" / \
    "kfp-2.2.0-kubernetes_executor_config.proto"

_FIELD = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _FIELD.TYPE_STRING, "bool": _FIELD.TYPE_BOOL,
    "int32": _FIELD.TYPE_INT32, "int64": _FIELD.TYPE_INT64,
    "double": _FIELD.TYPE_DOUBLE, "float": _FIELD.TYPE_FLOAT,
}
_TOKENS = re.compile(r"map\s*<\s*\w+\s*,\s*\w+\s*>|[\w.]+|[{};=<>,\[\]]")


def _tokens(text: str) -> list:
    text = re.sub(r"//[^\n]*", "", text)
    return _TOKENS.findall(text)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _entry_name(field: str) -> str:
    return "".join(part.title() for part in field.split("_")) + "Entry"


class _Parser:
    """Just the grammar of the vendored file, refusing anything else."""

    def __init__(self, text: str, package: str):
        self.tokens = _tokens(text)
        self.at = 0
        self.package = package

    def take(self, expected=None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.at]

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        proto = descriptor_pb2.FileDescriptorProto(
            name="kubernetes_executor_config.proto", package=self.package,
            syntax="proto3", dependency=["google/protobuf/struct.proto"])
        while self.at < len(self.tokens):
            keyword = self.take()
            if keyword == "message":
                self.message(proto.message_type.add(), f".{self.package}")
            else:   # syntax, package, import, option: up to the ';'
                while self.take() != ";":
                    pass
        return proto

    def message(self, message, scope: str) -> None:
        message.name = self.take()
        path = f"{scope}.{message.name}"
        self.take("{")
        oneof = None
        while self.peek() != "}" or oneof is not None:
            token = self.peek()
            if token == "}":
                self.take()
                oneof = None
            elif token == "message":
                self.take()
                self.message(message.nested_type.add(), path)
            elif token == "oneof":
                self.take()
                oneof = len(message.oneof_decl)
                message.oneof_decl.add(name=self.take())
                self.take("{")
            else:
                self.field(message, path, oneof)
        self.take("}")

    def field(self, message, path: str, oneof) -> None:
        label = _FIELD.LABEL_OPTIONAL
        if self.peek() in ("repeated", "optional"):
            if self.take() == "repeated":
                label = _FIELD.LABEL_REPEATED
        kind = self.take()
        field = message.field.add(label=label)
        field.name = self.take()
        field.json_name = _camel(field.name)
        self.take("=")
        field.number = int(self.take())
        if self.peek() == "[":       # options such as [deprecated = true]
            while self.take() != "]":
                pass
        self.take(";")
        if oneof is not None:
            field.oneof_index = oneof
        if kind.startswith("map"):
            key, value = re.findall(r"\w+", kind)[1:]
            entry = message.nested_type.add(name=_entry_name(field.name))
            entry.options.map_entry = True
            for number, (name, scalar) in enumerate(
                    (("key", key), ("value", value)), start=1):
                entry.field.add(name=name, json_name=name, number=number,
                                label=_FIELD.LABEL_OPTIONAL,
                                type=_SCALARS[scalar])
            field.label = _FIELD.LABEL_REPEATED
            field.type = _FIELD.TYPE_MESSAGE
            field.type_name = f"{path}.{entry.name}"
        elif kind in _SCALARS:
            field.type = _SCALARS[kind]
        else:
            field.type = _FIELD.TYPE_MESSAGE
            field.type_name = self.resolve(kind, message, path)

    def resolve(self, kind: str, message, path: str) -> str:
        """A nested type of this message (declared before its use in this
        file), google.protobuf.*, or a top-level type of the file."""
        if kind in {nested.name for nested in message.nested_type}:
            return f"{path}.{kind}"
        if kind.startswith("google.protobuf."):
            return f".{kind}"
        if "." in kind:
            raise ValueError(f"type {kind} from another file: not vendored")
        return f".{self.package}.{kind}"


@functools.lru_cache(maxsize=None)
def executor_config_class(proto_path: Path = KFP_2_2_PROTO):
    """The KubernetesExecutorConfig message class of the vendored proto."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
    proto = _Parser(proto_path.read_text(), "kfp_kubernetes").file()
    pool.Add(proto)
    descriptor = pool.FindMessageTypeByName(
        "kfp_kubernetes.KubernetesExecutorConfig")
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def parse_strictly(config: dict, proto_path: Path = KFP_2_2_PROTO):
    """Parses one executor's config as KFP 2.2's driver does; raises
    json_format.ParseError on an unknown field or a value of the wrong
    type."""
    return json_format.ParseDict(config, executor_config_class(proto_path)(),
                                 ignore_unknown_fields=False)
