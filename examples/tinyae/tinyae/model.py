import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="tinyae")
class LinearAE(keras.Model):
    decoder_output = "unit"  # decode is self.decoder as it is: the map may compile it

    def __init__(self, shape, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.latent_dim = tuple(shape), int(latent_dim)
        self.encoder = keras.Sequential(
            [keras.Input(self.image_shape), layers.Flatten(), layers.Dense(self.latent_dim)])
        self.decoder = keras.Sequential(
            [keras.Input((self.latent_dim,)),
             layers.Dense(int(np.prod(self.image_shape)), activation="sigmoid"),
             layers.Reshape(self.image_shape)])

    def call(self, x):
        return self.decoder(self.encoder(x))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.mean(ops.sum(ops.square(x - y_pred), axis=(1, 2, 3)))

    def encode(self, x):
        return ops.convert_to_numpy(self.encoder(np.asarray(x, "float32")))

    def decode(self, z):
        return ops.convert_to_numpy(self.decoder(np.asarray(z, "float32")))

    def get_config(self):
        return {**super().get_config(), "shape": self.image_shape, "latent_dim": self.latent_dim}


def build(config, data_info):
    model = LinearAE(data_info.shape, config.latent_dim, name="linear_ae")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model
