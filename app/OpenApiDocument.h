// The OpenAPI document (docs/openapi.yaml), embedded at build time and served as JSON at
// GET /openapi.json. The YAML is converted once, at start-up, with yaml-cpp (already the
// config's parser): no build-time tool beyond CMake is needed. Thread-safe (pure functions).
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace authsvc::app {

// docs/openapi.yaml as it was when the binary was built (generated source).
std::string_view embeddedOpenApiYaml();

struct YamlConversionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One YAML document as JSON, keeping types as YAML 1.2's core schema resolves them: a plain
// scalar that reads as a number, `true`/`false` or `null` becomes that JSON value, a quoted
// one (or one tagged !!str) stays a string. Throws YamlConversionError for what JSON cannot
// hold (a non-scalar mapping key, a key given twice, .inf/.nan, an integer beyond 64 bits)
// and for malformed YAML. Mappings keep their order (the document reads as it was written).
nlohmann::ordered_json yamlToJson(std::string_view yaml);

// The embedded document as compact JSON text.
std::string openApiJson();

}  // namespace authsvc::app
