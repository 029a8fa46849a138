#include "app/OpenApiDocument.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <regex>

namespace authsvc::app {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// YAML 1.2 core schema (spec 10.3.2) resolution of a plain scalar. yaml-cpp leaves typing
// to the caller (as<T>() converts anything convertible), so the rules are written here.
const std::regex kNull("null|Null|NULL|~|");
const std::regex kTrue("true|True|TRUE");
const std::regex kFalse("false|False|FALSE");
const std::regex kDecimal("[-+]?[0-9]+");
const std::regex kOctal("0o[0-7]+");
const std::regex kHex("0x[0-9a-fA-F]+");
const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
const std::regex kInfNan(R"([-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN)");

YamlConversionError error(const YAML::Node& node, const std::string& what) {
    const auto mark = node.Mark();
    return YamlConversionError("line " + std::to_string(mark.line + 1) + ": " + what);
}

Json integer(const YAML::Node& node, std::string_view text, int base) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size()) {
        throw error(node, "integer out of range: " + node.Scalar());
    }
    return value;
}

Json floating(const YAML::Node& node, std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        throw error(node, "not a number: " + node.Scalar());
    }
    return value;
}

Json plainScalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    if (std::regex_match(s, kNull)) return nullptr;
    if (std::regex_match(s, kTrue)) return true;
    if (std::regex_match(s, kFalse)) return false;
    if (std::regex_match(s, kDecimal)) return integer(node, s, 10);
    if (std::regex_match(s, kOctal)) return integer(node, std::string_view(s).substr(2), 8);
    if (std::regex_match(s, kHex)) return integer(node, std::string_view(s).substr(2), 16);
    if (std::regex_match(s, kFloat)) return floating(node, s);
    if (std::regex_match(s, kInfNan)) throw error(node, "JSON has no " + s);
    return s;
}

Json scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    if (tag == "!") return node.Scalar();  // quoted: always a string
    if (tag == "?" || tag.empty()) return plainScalar(node);
    if (tag.rfind(kTagPrefix, 0) != 0) throw error(node, "unsupported tag " + tag);
    const std::string_view type = std::string_view(tag).substr(kTagPrefix.size());
    if (type == "str") return node.Scalar();
    const Json value = plainScalar(node);
    const bool fits = (type == "int" && value.is_number_integer()) ||
                      (type == "float" && value.is_number()) ||
                      (type == "bool" && value.is_boolean()) || (type == "null" && value.is_null());
    if (!fits) throw error(node, "!!" + std::string(type) + " does not fit " + node.Scalar());
    return type == "float" ? Json(value.get<double>()) : value;
}

Json convert(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return nullptr;
        case YAML::NodeType::Scalar:
            return scalar(node);
        case YAML::NodeType::Sequence: {
            Json out = Json::array();
            for (const auto& item : node) out.push_back(convert(item));
            return out;
        }
        case YAML::NodeType::Map: {
            Json out = Json::object();
            for (const auto& entry : node) {
                if (!entry.first.IsScalar())
                    throw error(entry.first, "a mapping key must be a scalar");
                const std::string& key = entry.first.Scalar();
                // yaml-cpp keeps the first of two equal keys silently.
                if (out.contains(key)) throw error(entry.first, "key given twice: " + key);
                out[key] = convert(entry.second);
            }
            return out;
        }
        case YAML::NodeType::Undefined:
            break;
    }
    throw error(node, "undefined node");
}

}  // namespace

nlohmann::ordered_json yamlToJson(std::string_view yaml) {
    try {
        return convert(YAML::Load(std::string(yaml)));
    } catch (const YAML::Exception& e) {
        throw YamlConversionError(e.what());
    }
}

std::string openApiJson() {
    return yamlToJson(embeddedOpenApiYaml()).dump();
}

}  // namespace authsvc::app
