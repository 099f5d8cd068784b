package ai.djlquant.cli;

import picocli.CommandLine.Option;

/** The options that name the factories of a model directory whose serving.properties lacks them. */
final class FactoryOptions {

    @Option(
            names = "--block-factory",
            paramLabel = "CLASS",
            description = "BlockFactory of a float model directory (default: serving.properties).")
    String blockFactory;

    @Option(
            names = "--translator-factory",
            paramLabel = "CLASS",
            description =
                    "TranslatorFactory for Image -> Classifications (default: serving.properties).")
    String translatorFactory;
}
