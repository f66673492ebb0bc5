import * as protobuf from 'protobufjs';

/**
 * The subset of TensorFlow's event.proto / summary.proto / tensor.proto that carries scalars, with
 * TensorFlow's field numbers. Fields we do not read (images, histograms, graphs) are left out: protobuf
 * skips unknown fields. `simple_value` and `tensor` sit in a oneof as in TensorFlow, which is what gives
 * a scalar of exactly 0.0 presence on the wire in proto3.
 */
export const EVENT_PROTO = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13 [packed = true];
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated int64 int64_val = 10 [packed = true];
}
`;

/** TensorFlow DataType enum values for the numeric types a scalar summary may use. */
export const DT = { FLOAT: 1, DOUBLE: 2, INT32: 3, INT64: 9, BFLOAT16: 14, HALF: 19 } as const;

let cached: { Event: protobuf.Type } | undefined;

export function eventTypes(): { Event: protobuf.Type } {
  if (!cached) {
    const root = protobuf.parse(EVENT_PROTO, { keepCase: true }).root;
    cached = { Event: root.lookupType('tensorboard.Event') };
  }
  return cached;
}
